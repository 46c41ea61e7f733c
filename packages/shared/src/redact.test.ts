import { describe, expect, it } from 'vitest';
import { catalog } from './catalog/index';
import { createLogger } from './logger';
import {
  isSecretKey,
  REDACTED,
  redactPayload,
  redactValue,
  scrubbingLoggerOptions,
  scrubText,
  sensitivePathsOf,
  sensitiveValues,
} from './redact';

const capture = () => {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
};

describe('redactPayload', () => {
  it('replaces the fields a kind marks sensitive and keeps the rest', () => {
    const payload = {
      to: 'ann@example.com',
      subject: 'Your code',
      text: 'Your one-time code is 913-442',
      html: '<p>Your one-time code is 913-442</p>',
    };
    expect(redactPayload('email.send', payload)).toEqual({
      to: 'ann@example.com',
      subject: 'Your code',
      text: REDACTED,
      html: REDACTED,
    });
    // A copy: the payload the handler gets is untouched.
    expect(payload.text).toBe('Your one-time code is 913-442');
  });

  it('replaces secret-looking keys at any depth, for any kind, known or not', () => {
    const payload = {
      echo: {
        list: [{ password: 'p1', nested: { Authorization: 'Bearer abc', refresh_token: 't1' } }],
        'X-Api-Key': 'k1',
        clientSecret: { any: 'shape' },
        smtpPassword: 42,
        keep: 'me',
      },
    };
    const expected = {
      echo: {
        list: [{ password: REDACTED, nested: { Authorization: REDACTED, refresh_token: REDACTED } }],
        'X-Api-Key': REDACTED,
        clientSecret: REDACTED,
        smtpPassword: REDACTED,
        keep: 'me',
      },
    };
    expect(redactPayload('noop', payload)).toEqual(expected);
    expect(redactPayload('no.such.kind', payload)).toEqual(expected);
  });

  it('leaves values that are not objects alone', () => {
    for (const v of [null, undefined, 3, 'text', true]) expect(redactPayload('noop', v)).toBe(v);
  });
});

describe('isSecretKey', () => {
  it.each([
    'password',
    'PASSWORD',
    'passwd',
    'apiKey',
    'api_key',
    'x-api-key',
    'token',
    'accessToken',
    'secret',
    'authorization',
    'privateKey',
    'credentials',
    'cookie',
  ])('%s is secret-looking', (key) => expect(isSecretKey(key)).toBe(true));
  it.each(['to', 'subject', 'text', 'key', 'width', 'format', 'echo'])('%s is not', (key) =>
    expect(isSecretKey(key)).toBe(false),
  );
});

describe('redactValue with paths', () => {
  it('follows dot paths, with * for any key or list item', () => {
    const value = {
      auth: { user: 'ann', pin: '1234' },
      headers: { a: 'x', b: 'y' },
      items: [
        { card: '4111', label: 'one' },
        { card: '5500', label: 'two' },
      ],
    };
    expect(redactValue(value, ['auth.pin', 'headers.*', 'items.*.card'])).toEqual({
      auth: { user: 'ann', pin: REDACTED },
      headers: { a: REDACTED, b: REDACTED },
      items: [
        { card: REDACTED, label: 'one' },
        { card: REDACTED, label: 'two' },
      ],
    });
  });

  it('redacts a whole subtree when the path names an object', () => {
    expect(redactValue({ auth: { user: 'ann', pin: '1' } }, ['auth'])).toEqual({ auth: REDACTED });
  });

  it('survives cycles and absurd depth', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redactValue(a)).toEqual({ name: 'a', self: REDACTED });
    let deep: Record<string, unknown> = { password: 'bottom' };
    for (let i = 0; i < 100; i++) deep = { next: deep };
    expect(JSON.stringify(redactValue(deep))).not.toContain('bottom');
  });
});

describe('sensitiveValues and scrubText', () => {
  it('lists the redacted strings, longest first, ignoring ones too short to scrub', () => {
    const values = sensitiveValues('email.send', {
      to: 'a@example.com',
      subject: 's',
      text: 'body text here',
      html: '<b>body text here</b>',
      echo: undefined,
    });
    expect(values).toEqual(['<b>body text here</b>', 'body text here']);
    expect(sensitiveValues('noop', { echo: { token: 'ab', password: 'hunter22' } })).toEqual(['hunter22']);
  });

  it('replaces every occurrence', () => {
    expect(scrubText('x hunter22 y hunter22', ['hunter22'])).toBe(`x ${REDACTED} y ${REDACTED}`);
  });
});

describe('the catalog', () => {
  it('marks only paths its kinds’ payload schemas can have', () => {
    for (const [type, kind] of Object.entries(catalog)) {
      const shape = (kind.payload as unknown as { shape?: Record<string, unknown> }).shape;
      for (const path of sensitivePathsOf(type)) {
        const head = path.split('.')[0]!;
        if (shape && head !== '*') expect(Object.keys(shape), `${type}: ${path}`).toContain(head);
      }
    }
    expect(sensitivePathsOf('email.send')).toEqual(['text', 'html']);
  });
});

describe('log lines', () => {
  it('a job logger scrubs its sensitive values from objects and errors, message and stack', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 't', destination }).child(
      { jobId: 'j' },
      scrubbingLoggerOptions(['hunter22-secret']),
    );
    const error = new Error('login failed for hunter22-secret');
    log.error({ err: error, detail: { said: 'pw hunter22-secret', cause: error }, n: 3 }, 'job failed');
    const line = JSON.parse(lines[0]!);
    expect(lines[0]).not.toContain('hunter22-secret');
    expect(line.err.message).toBe(`login failed for ${REDACTED}`);
    expect(line.err.type).toBe('Error');
    expect(line.err.stack).toContain(REDACTED);
    expect(line.detail.said).toBe(`pw ${REDACTED}`);
    expect(line.detail.cause.message).toBe(`login failed for ${REDACTED}`);
    expect(line).toMatchObject({ jobId: 'j', n: 3, msg: 'job failed' });
  });

  it('the logger redacts transport secrets at the top and one level down', () => {
    const { lines, destination } = capture();
    createLogger({ name: 't', destination }).info(
      {
        secret: 's1',
        token: 't1',
        nested: { apiKey: 'k1', authorization: 'a1', password: 'p1', secret: 's2' },
      },
      'x',
    );
    for (const v of ['s1', 't1', 'k1', 'a1', 'p1', 's2']) expect(lines[0]).not.toContain(`"${v}"`);
  });
});
