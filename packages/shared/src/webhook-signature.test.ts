import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateWebhookSecret,
  signWebhook,
  webhookHeaders,
  webhookSignatureHeader,
} from './webhook-signature';

describe('webhook signatures', () => {
  it('matches the Standard Webhooks reference vector', () => {
    // From the Standard Webhooks specification's reference implementations (svix test suite).
    const signature = signWebhook(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('makes whsec_ secrets of 32 random bytes, different each time', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('signs with every secret given, space-separated, in order', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const header = webhookSignatureHeader([current, previous], 'msg_1', 1_700_000_000, '{"a":1}');
    const expected = [current, previous].map(
      (s) =>
        `v1,${createHmac('sha256', Buffer.from(s.slice(6), 'base64'))
          .update('msg_1.1700000000.{"a":1}')
          .digest('base64')}`,
    );
    expect(header.split(' ')).toEqual(expected);
  });

  it('builds the id, timestamp and signature headers', () => {
    const secret = generateWebhookSecret();
    expect(webhookHeaders([secret], 'msg_2', 42, 'x')).toEqual({
      'webhook-id': 'msg_2',
      'webhook-timestamp': '42',
      'webhook-signature': signWebhook(secret, 'msg_2', 42, 'x'),
    });
  });

  it('refuses a secret without the whsec_ prefix or without key bytes', () => {
    expect(() => signWebhook('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'm', 1, '')).toThrow(/whsec_/);
    expect(() => signWebhook('whsec_', 'm', 1, '')).toThrow(/no key/);
  });
});
