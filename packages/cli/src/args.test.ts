import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args';

describe('parseCommand', () => {
  it('parses admin commands', () => {
    expect(parseCommand(['tenants', 'create', '--name', 'Acme'])).toEqual({
      name: 'tenants.create',
      tenantName: 'Acme',
      json: false,
    });
    expect(
      parseCommand(['keys', 'create', '--tenant', 't1', '--scopes', 'jobs:read,jobs:write', '--json']),
    ).toEqual({
      name: 'keys.create',
      tenant: 't1',
      scopes: ['jobs:read', 'jobs:write'],
      keyName: undefined,
      json: true,
    });
    expect(
      parseCommand(['keys', 'create', '--tenant', 't1', '--scopes', 'jobs:read', '--scopes', 'jobs:write']),
    ).toMatchObject({
      scopes: ['jobs:read', 'jobs:write'],
    });
    expect(parseCommand(['keys', 'revoke', 'k1'])).toEqual({ name: 'keys.revoke', id: 'k1', json: false });
  });

  it('parses submit with a JSON payload and an idempotency key, and refuses bad JSON', () => {
    expect(parseCommand(['submit', 'noop', '--payload', '{"sleepMs":5}', '--idempotency-key', 'k'])).toEqual({
      name: 'submit',
      type: 'noop',
      payload: { sleepMs: 5 },
      idempotencyKey: 'k',
      json: false,
    });
    expect(parseCommand(['submit', 'noop'])).toMatchObject({ payload: {} });
    expect(() => parseCommand(['submit', 'noop', '--payload', '{nope'])).toThrow(/not valid JSON/);
  });

  it('takes --wait with or without a number of seconds, in any position', () => {
    expect(parseCommand(['get', 'j1'])).toMatchObject({ waitS: undefined });
    expect(parseCommand(['get', 'j1', '--wait'])).toMatchObject({ id: 'j1', waitS: 0 });
    expect(parseCommand(['get', 'j1', '--wait', '45'])).toMatchObject({ id: 'j1', waitS: 45 });
    expect(parseCommand(['get', '--wait', 'j1'])).toMatchObject({ id: 'j1', waitS: 0 });
    expect(parseCommand(['get', '--wait=10', 'j1'])).toMatchObject({ id: 'j1', waitS: 10 });
    expect(() => parseCommand(['get', 'j1', '--wait=-1'])).toThrow(UsageError);
  });

  it('parses events with --follow or -f, and queues', () => {
    expect(parseCommand(['events', 'j1', '--follow'])).toEqual({
      name: 'events',
      id: 'j1',
      follow: true,
      json: false,
    });
    expect(parseCommand(['events', 'j1', '-f'])).toMatchObject({ follow: true });
    expect(parseCommand(['events', 'j1'])).toMatchObject({ follow: false });
    expect(parseCommand(['queues', '--json'])).toEqual({ name: 'queues', json: true });
  });

  it('answers help for no command, help or --help', () => {
    expect(parseCommand([])).toMatchObject({ name: 'help' });
    expect(parseCommand(['help'])).toMatchObject({ name: 'help' });
    expect(parseCommand(['submit', '--help'])).toMatchObject({ name: 'help' });
  });

  it('throws UsageError for unknown commands, unknown options and missing arguments', () => {
    for (const argv of [
      ['launch'],
      ['get'],
      ['get', 'a', 'b'],
      ['tenants', 'create'],
      ['tenants', 'delete', '--name', 'x'],
      ['keys', 'create'],
      ['keys', 'revoke'],
      ['submit', 'noop', '--nope'],
    ]) {
      expect(() => parseCommand(argv), argv.join(' ')).toThrow(UsageError);
    }
  });
});
