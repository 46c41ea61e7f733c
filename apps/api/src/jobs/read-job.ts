import { type Db, findJob } from '@conveyor/db';
import type { Producer } from '@conveyor/queue';
import type { JobView } from '@conveyor/shared';
import { toJobView } from '../views/job';

/**
 * One job's full view for its tenant: from the Redis read cache when it holds one, otherwise from Postgres,
 * then offered to the cache (the fill is refused if a writer invalidated the job since `get`; see
 * `@conveyor/queue` job-cache for why that keeps reads from going back in time). Another tenant's job is
 * null even when cached. Redis down: the cache answers misses and Postgres serves every read.
 */
export async function readJobView(
  deps: { db: Db; producer: Producer; readCache?: boolean | undefined },
  tenantId: string,
  id: string,
): Promise<JobView | null> {
  const cache = deps.readCache === false ? undefined : deps.producer.jobCache;
  const cached = cache ? await cache.get(id) : undefined;
  if (cached?.hit) return cached.tenantId === tenantId ? (JSON.parse(cached.json) as JobView) : null;
  const row = await findJob(deps.db, tenantId, id);
  if (!row) return null;
  const view = toJobView(row);
  if (cache && cached) {
    await cache.fill(id, cached, {
      version: row.version,
      tenantId: row.tenantId,
      json: JSON.stringify(view),
    });
  }
  return view;
}
