import { setTimeout as sleep } from 'node:timers/promises';
import { isDbUnavailable } from '@conveyor/db';

/**
 * Runs a Postgres write, retrying for up to `budgetMs` while Postgres is unreachable (other errors are
 * thrown at once). A worker that just finished a job should not lose the outcome, nor fail the job,
 * because of a short database outage.
 */
export async function withDbRetry<T>(fn: () => Promise<T>, budgetMs: number): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await fn();
    } catch (error) {
      if (!isDbUnavailable(error) || Date.now() + delay > deadline) throw error;
      await sleep(delay);
    }
  }
}
