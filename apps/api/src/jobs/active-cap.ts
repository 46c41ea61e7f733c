import { countActiveJobs, type Db } from '@conveyor/db';
import { AppError } from '@conveyor/shared';
import type { Context } from 'hono';
import type { AppEnv } from '../deps';

/** Retry-After of a submit refused by the cap, in s: jobs finish at no predictable time, so a short poll. */
const CAP_RETRY_AFTER_S = 10;

/**
 * Refuses (429 rate_limited) a submit of `adding` jobs that would take the tenant past its cap on unfinished
 * (queued, running, retrying) jobs. The count and the insert are not one transaction: submits racing each
 * other may each see room and together overshoot the cap by up to their number of jobs. That is accepted —
 * the cap protects the queues from runaway backlogs, it is not a billing counter — and buys a check without
 * a lock on the tenant. The cap comes from the request's resolved limits (set by the rate limiter once the
 * key is verified); without them (limits not configured) there is no cap.
 */
export async function assertActiveJobCapacity(db: Db, c: Context<AppEnv>, adding: number): Promise<void> {
  const cap = c.get('limits')?.maxActiveJobs ?? 0;
  if (cap === 0) return;
  const active = await countActiveJobs(db, c.get('auth').tenantId);
  if (active + adding <= cap) return;
  const what = adding === 1 ? 'another job' : `${adding} more jobs`;
  throw new AppError(
    'rate_limited',
    429,
    `This tenant has ${active} unfinished jobs and may have at most ${cap}; ${what} would exceed that. ` +
      'Retry once some have finished.',
    { headers: { 'Retry-After': String(CAP_RETRY_AFTER_S) } },
  );
}
