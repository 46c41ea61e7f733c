import { type Db, findTenantLimits } from '@conveyor/db';

/** The limits that apply to one tenant: its own where set, else the deployment's. 0 = unlimited. */
export interface EffectiveLimits {
  /** Requests per window for each of the tenant's API keys. */
  rateLimit: number;
  /** Most unfinished jobs at once. */
  maxActiveJobs: number;
}

/**
 * Resolves a tenant's limits, cached in process for `ttlMs` (so a change made through the admin API applies
 * within that time on every instance). When Postgres cannot answer, the defaults apply and nothing is cached:
 * a limit lookup never fails a request.
 */
export function createTenantLimits(db: Db, defaults: EffectiveLimits, ttlMs: number) {
  const cache = new Map<string, { limits: EffectiveLimits; expires: number }>();
  return async (tenantId: string): Promise<EffectiveLimits> => {
    const hit = cache.get(tenantId);
    if (hit && hit.expires > Date.now()) return hit.limits;
    const own = await findTenantLimits(db, tenantId).catch(() => null);
    if (own === null) return defaults;
    const limits: EffectiveLimits = {
      rateLimit: own?.rateLimit ?? defaults.rateLimit,
      maxActiveJobs: own?.maxActiveJobs ?? defaults.maxActiveJobs,
    };
    if (ttlMs > 0) {
      if (cache.size > 10_000) cache.clear();
      cache.set(tenantId, { limits, expires: Date.now() + ttlMs });
    }
    return limits;
  };
}
