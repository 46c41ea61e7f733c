import { findJob } from '@conveyor/db';
import type { Producer } from '@conveyor/queue';
import type { JobView } from '@conveyor/shared';
import { findOnReplicaOrPrimary, type ReadClients } from '../read-db';
import { toJobView } from '../views/job';
import { type ReadView, readViewOf, type SettledViews } from './settled-views';

/**
 * One job's full view for its tenant, with its serialized body and ETag: from the in-process cache of
 * succeeded jobs, else the Redis read cache when it holds one, otherwise from Postgres, then offered to the
 * cache (the fill is refused if a writer invalidated the job since `get`; see `@conveyor/queue` job-cache
 * for why that keeps reads from going back in time). Another tenant's job is null even when cached.
 * Redis down: the cache answers misses and Postgres serves every read. With a read replica
 * (DATABASE_READ_URL) see below for which reads may use it.
 */
export async function readJob(
  deps: ReadClients & { producer: Producer; readCache?: boolean | undefined; settled?: SettledViews },
  tenantId: string,
  id: string,
  options: { fresh?: boolean } = {},
): Promise<ReadView | null> {
  const settled = deps.settled?.get(tenantId, id);
  if (settled) return settled;
  const cache = deps.readCache === false ? undefined : deps.producer.jobCache;
  const cached = cache ? await cache.get(id) : undefined;
  if (cached?.hit) {
    if (cached.tenantId !== tenantId) return null;
    return remember(deps.settled, tenantId, readViewOf(JSON.parse(cached.json) as JobView, cached.json));
  }
  // A view offered to the cache must be at least as new as the epoch it fills: only the primary promises
  // that, so a fillable miss reads there (and the fill then spares it the next reads). A `fresh` read follows
  // a job-change message, sent once the change committed on the primary. Every other read (cache off, Redis
  // away, a write pending) may use the replica, falling back to the primary when it lacks the job.
  const fillable = cached !== undefined && cached.epoch !== null;
  const row =
    options.fresh || fillable
      ? await findJob(deps.db, tenantId, id)
      : (await findOnReplicaOrPrimary(deps, (db) => findJob(db, tenantId, id))).found;
  if (!row) return null;
  const read = readViewOf(toJobView(row));
  if (cache && cached) {
    await cache.fill(id, cached, { version: row.version, tenantId: row.tenantId, json: read.json });
  }
  return remember(deps.settled, tenantId, read);
}

function remember(settled: SettledViews | undefined, tenantId: string, read: ReadView) {
  settled?.offer(tenantId, read);
  return read;
}
