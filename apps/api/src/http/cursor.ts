import { invalidParameter, isUuid } from '@conveyor/shared';
import type { Context } from 'hono';

/** Opaque keyset cursors: the last id of a page, versioned so the format can change later. */
export const encodeCursor = (lastId: string) => Buffer.from(`v1:${lastId}`).toString('base64url');

export function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const id = text.startsWith('v1:') ? text.slice(3) : '';
  if (!isUuid(id))
    throw invalidParameter('cursor is not one this API issued.', [
      { path: 'cursor', message: 'malformed cursor' },
    ]);
  return id.toLowerCase();
}

/**
 * The cursor of the page after `rows` (null on the last page); when there is one, also sets
 * `Link: <same path and query, with this cursor>; rel="next"`.
 */
export function nextPageCursor(c: Context, rows: readonly { id: string }[], hasMore: boolean): string | null {
  if (!hasMore || rows.length === 0) return null;
  const cursor = encodeCursor(rows.at(-1)!.id);
  const next = new URL(c.req.url);
  next.searchParams.set('cursor', cursor);
  c.header('Link', `<${next.pathname}${next.search}>; rel="next"`);
  return cursor;
}
