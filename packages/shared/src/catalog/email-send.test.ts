import { describe, expect, it } from 'vitest';
import { emailSendPayload, parseMailbox } from './email-send';

describe('parseMailbox', () => {
  it('reads a bare address and the "Name <address>" forms', () => {
    expect(parseMailbox('ann@example.com')).toEqual({ address: 'ann@example.com' });
    expect(parseMailbox('  ann@example.com ')).toEqual({ address: 'ann@example.com' });
    expect(parseMailbox('Ann Archer <ann@example.com>')).toEqual({
      name: 'Ann Archer',
      address: 'ann@example.com',
    });
    expect(parseMailbox('"Archer, Ann" <ann@example.com>')).toEqual({
      name: 'Archer, Ann',
      address: 'ann@example.com',
    });
    expect(parseMailbox('"Say \\"hi\\"" <ann@example.com>')).toEqual({
      name: 'Say "hi"',
      address: 'ann@example.com',
    });
    expect(parseMailbox('<ann@example.com>')).toEqual({ address: 'ann@example.com' });
    expect(parseMailbox('Grüße Team <team@example.com>')).toEqual({
      name: 'Grüße Team',
      address: 'team@example.com',
    });
  });

  it('refuses header breakers, lists, and malformed or over-long parts', () => {
    for (const bad of [
      'ann@example.com\r\nBcc: spy@evil.example',
      'Ann\n <ann@example.com>',
      'Ann\r <ann@example.com>',
      'Ann\u0000 <ann@example.com>',
      'ann@example.com, bob@example.com',
      'Ann <ann@example.com>, Bob <bob@example.com>',
      'Ann <ann@example.com',
      'Ann <<ann@example.com>>',
      'ann',
      'ann@',
      '@example.com',
      'ann@localhost',
      'ann@example..com',
      'ann example@example.com',
      `${'x'.repeat(201)} <ann@example.com>`,
      `${'x'.repeat(250)}@example.com`,
      '',
    ])
      expect(parseMailbox(bad), JSON.stringify(bad)).toBeUndefined();
  });
});

describe('email.send payload', () => {
  const base = { to: 'ann@example.com', subject: 'Hi', text: 'hello' };
  const issues = (payload: unknown) =>
    emailSendPayload
      .safeParse(payload)
      .error?.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));

  it('accepts text, html or both, and every address form in every address field', () => {
    expect(emailSendPayload.safeParse(base).success).toBe(true);
    expect(emailSendPayload.safeParse({ ...base, text: undefined, html: '<p>x</p>' }).success).toBe(true);
    const full = {
      to: ['Ann <ann@example.com>', { name: 'Bob', address: 'bob@example.com' }],
      cc: { address: 'cc@example.com' },
      bcc: ['bcc@example.com'],
      from: 'Ops <ops@example.com>',
      replyTo: ['help@example.com', 'Desk <desk@example.com>'],
      subject: 'Subject',
      text: 't',
      html: '<b>h</b>',
    };
    const parsed = emailSendPayload.parse(full);
    // Stored as submitted: parsing does not rewrite the addresses.
    expect(parsed).toEqual(full);
  });

  it('names the field of each header problem', () => {
    expect(issues({ ...base, subject: 'a\r\nb' })).toEqual([
      { path: 'subject', message: 'must not contain CR, LF or NUL' },
    ]);
    expect(issues({ ...base, from: { name: 'x\ny', address: 'a@example.com' } })).toEqual([
      { path: 'from.name', message: 'must not contain CR, LF or NUL' },
    ]);
    expect(issues({ ...base, to: ['a@example.com', 'B\r\n <b@example.com>'] })).toEqual([
      { path: 'to.1', message: 'must not contain CR, LF or NUL' },
    ]);
  });

  it('bounds recipients per field and in all, and wants a body', () => {
    const many = (n: number, domain = 'example.com') =>
      Array.from({ length: n }, (_, i) => `u${i}@${domain}`);
    expect(emailSendPayload.safeParse({ ...base, to: many(50) }).success).toBe(true);
    expect(issues({ ...base, to: many(51) })).toEqual([{ path: 'to', message: 'at most 50 addresses' }]);
    expect(emailSendPayload.safeParse({ ...base, to: many(50), cc: many(50) }).success).toBe(true);
    expect(issues({ ...base, to: many(50), cc: many(50), bcc: 'x@example.com' })?.[0]?.path).toBe('to');
    expect(issues({ to: 'a@example.com', subject: 'x' })).toEqual([
      { path: 'text', message: 'give text, html or both' },
    ]);
    expect(issues({ ...base, text: '' })?.[0]?.path).toBe('text');
    expect(issues({ ...base, subject: 'x'.repeat(999) })?.[0]?.path).toBe('subject');
    expect(issues({ ...base, to: `${'a'.repeat(1_000_000)}@example.com` })).toEqual([
      { path: 'to', message: 'must be at most 660 characters' },
    ]);
  });
});
