import { invalidParameter, isUuid } from '@conveyor/shared';

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
