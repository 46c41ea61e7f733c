import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `cvr_<prefix>_<secret>`. The prefix (8 hex chars) is stored in clear to find the row;
 * only the SHA-256 of the whole key is stored. A fast hash is enough: the secret has 192 random bits,
 * so there is nothing to brute-force that a slow hash would protect.
 */
export interface GeneratedKey {
  key: string;
  prefix: string;
  hash: string;
}

export const SCOPES = ['jobs:read', 'jobs:write', 'schedules:write'] as const;
export type Scope = (typeof SCOPES)[number];

export function generateApiKey(): GeneratedKey {
  const prefix = randomBytes(4).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const key = `cvr_${prefix}_${secret}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

const KEY_RE = /^cvr_([0-9a-f]{8})_[A-Za-z0-9_-]{32}$/;

/** The prefix of a well-formed key, or null: a malformed key never reaches the database. */
export function apiKeyPrefix(key: string): string | null {
  return KEY_RE.exec(key)?.[1] ?? null;
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
