import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey } from './api-key';

describe('generateApiKey', () => {
  it('makes cvr_<8 hex>_<32 base64url> keys whose prefix and hash describe them', () => {
    for (let i = 0; i < 200; i++) {
      const { key, prefix, hash } = generateApiKey();
      expect(key).toMatch(/^cvr_[0-9a-f]{8}_[A-Za-z0-9_-]{32}$/);
      expect(key.slice(4, 12)).toBe(prefix);
      expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
      expect(apiKeyPrefix(key)).toBe(prefix);
    }
  });

  it('never repeats a key', () => {
    const keys = new Set(Array.from({ length: 1_000 }, () => generateApiKey().key));
    expect(keys.size).toBe(1_000);
  });
});

describe('apiKeyPrefix', () => {
  const { key, prefix } = generateApiKey();
  const secret = key.slice(13);

  it('returns the prefix of a well-formed key', () => {
    expect(apiKeyPrefix(`cvr_0123abcd_${'A'.repeat(32)}`)).toBe('0123abcd');
    expect(apiKeyPrefix(key)).toBe(prefix);
  });

  it.each([
    ['empty', ''],
    ['wrong scheme', `cvx_${prefix}_${secret}`],
    ['no scheme', `${prefix}_${secret}`],
    ['upper-case prefix', `cvr_ABCDEF01_${secret}`],
    ['short prefix', `cvr_${prefix.slice(1)}_${secret}`],
    ['long prefix', `cvr_${prefix}0_${secret}`],
    ['short secret', `cvr_${prefix}_${secret.slice(1)}`],
    ['long secret', `cvr_${prefix}_${secret}A`],
    ['secret outside base64url', `cvr_${prefix}_${'+'.repeat(32)}`],
    ['missing separator', `cvr_${prefix}${secret}`],
    ['leading space', ` ${key}`],
    ['trailing newline', `${key}\n`],
    ['bearer scheme left in', `Bearer ${key}`],
  ])('rejects a malformed key (%s)', (_what, malformed) => {
    expect(apiKeyPrefix(malformed)).toBeNull();
  });
});

describe('apiKeyMatches', () => {
  it('matches a key against its own stored hash', () => {
    const { key, hash } = generateApiKey();
    expect(apiKeyMatches(key, hash)).toBe(true);
    expect(hashApiKey(key)).toBe(hash);
  });

  it("does not match another key's hash, a near-miss key, or a malformed hash", () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(apiKeyMatches(a.key, b.hash)).toBe(false);
    expect(apiKeyMatches(`${a.key.slice(0, -1)}${a.key.endsWith('A') ? 'B' : 'A'}`, a.hash)).toBe(false);
    expect(apiKeyMatches(a.key, a.hash.slice(0, 62))).toBe(false);
    expect(apiKeyMatches(a.key, '')).toBe(false);
    expect(apiKeyMatches(a.key, 'not hex at all')).toBe(false);
  });
});
