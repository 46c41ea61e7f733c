import type { JobView } from '@conveyor/shared';
import { etagOf } from '../http/etag';

/** A job's view with its serialized body and that body's ETag, as one read answers it. */
export interface ReadView {
  view: JobView;
  json: string;
  etag: string;
}

/**
 * Views of `succeeded` jobs, kept in process. A succeeded job never changes again (the transition trigger
 * refuses to move it, a retry takes only failed or canceled jobs, and jobs are never deleted), so this
 * cache needs no invalidation and cannot serve a read older than the last committed transition — the
 * guarantee the Redis read cache keeps with its epochs. It saves the Redis round trip, the parse and the
 * hash of the most common repeated read: polling a finished job for its result. Bounded, oldest out first.
 */
export function createSettledViews(maxEntries = 10_000) {
  const entries = new Map<string, ReadView & { tenantId: string }>();
  return {
    /** The view of a succeeded job of this tenant; another tenant's job is a miss like any other. */
    get(tenantId: string, id: string): ReadView | undefined {
      const entry = entries.get(id);
      return entry?.tenantId === tenantId ? entry : undefined;
    },
    /** Keeps `read` when its job has succeeded; any other status is left to the shared caches. */
    offer(tenantId: string, read: ReadView) {
      if (read.view.status !== 'succeeded' || entries.has(read.view.id)) return;
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(read.view.id, { ...read, tenantId });
    },
    get size() {
      return entries.size;
    },
  };
}

export type SettledViews = ReturnType<typeof createSettledViews>;

export const readViewOf = (view: JobView, json = JSON.stringify(view)): ReadView => ({
  view,
  json,
  etag: etagOf(json),
});
