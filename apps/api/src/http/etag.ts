import { createHash } from 'node:crypto';

/** A strong ETag over the exact bytes of a JSON answer. */
export const etagOf = (body: string) => `"${createHash('sha1').update(body).digest('base64url')}"`;

/** True when If-None-Match names `etag` (or is `*`); weak comparison, per RFC 9110 §13.1.2. */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare);
}
