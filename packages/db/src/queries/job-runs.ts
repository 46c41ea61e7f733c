import type { JobErrorBody } from '@conveyor/shared';
import { and, eq, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type JobRow, jobs } from '../schema/index';
import { isActive } from './status';

/**
 * The worker's side of the state machine. Every outcome write is guarded by the status it expects and
 * fenced by the token its attempt started with (`fence`), so a worker that lost its lock — stalled, then
 * the job picked up elsewhere — matches no row and changes nothing.
 */

export type StartOutcome =
  | { kind: 'run'; row: JobRow }
  | { kind: 'skip'; reason: 'missing' | 'stale_generation' | 'terminal' }
  /** The start itself ended the job: `row` is its final state. */
  | { kind: 'skip'; reason: 'canceled' | 'exhausted'; row: JobRow };

export const EXHAUSTED_ERROR: JobErrorBody = {
  code: 'attempts_exhausted',
  message:
    'The last allowed attempt was interrupted (its worker stopped or lost the job) before it finished.',
};

export async function startAttempt(db: Db, id: string, generation: number): Promise<StartOutcome> {
  const now = new Date();
  const [row] = await db
    .update(jobs)
    .set({
      status: 'running',
      attempts: sql`${jobs.attempts} + 1`,
      fence: sql`${jobs.fence} + 1`,
      progress: 0,
      startedAt: now,
      updatedAt: now,
    })
    .where(
      and(
        eq(jobs.id, id),
        eq(jobs.generation, generation),
        isActive(),
        isNull(jobs.cancelRequestedAt),
        lt(jobs.attempts, jobs.maxAttempts),
      ),
    )
    .returning();
  if (row) return { kind: 'run', row };

  const [current] = await db.select().from(jobs).where(eq(jobs.id, id));
  if (!current) return { kind: 'skip', reason: 'missing' };
  if (current.generation !== generation) return { kind: 'skip', reason: 'stale_generation' };
  if (!['queued', 'running', 'retrying'].includes(current.status))
    return { kind: 'skip', reason: 'terminal' };
  const scope = and(eq(jobs.id, id), eq(jobs.generation, generation), isActive());
  if (current.cancelRequestedAt) {
    const [ended] = await db
      .update(jobs)
      .set({ status: 'canceled', finishedAt: now, updatedAt: now })
      .where(scope)
      .returning();
    return ended ? { kind: 'skip', reason: 'canceled', row: ended } : { kind: 'skip', reason: 'terminal' };
  }
  const [ended] = await db
    .update(jobs)
    .set({ status: 'failed', error: EXHAUSTED_ERROR, finishedAt: now, updatedAt: now })
    .where(scope)
    .returning();
  return ended ? { kind: 'skip', reason: 'exhausted', row: ended } : { kind: 'skip', reason: 'terminal' };
}

const runningWithFence = (id: string, fence: number) =>
  and(eq(jobs.id, id), eq(jobs.fence, fence), eq(jobs.status, 'running'));

/** Records progress (0–100); tells the caller whether a cancel was asked for meanwhile. */
export async function recordProgress(
  db: Db,
  params: { id: string; fence: number; progress: number },
): Promise<{ applied: boolean; cancelRequested: boolean }> {
  const rows = await db
    .update(jobs)
    .set({ progress: Math.max(0, Math.min(100, Math.round(params.progress))), updatedAt: new Date() })
    .where(runningWithFence(params.id, params.fence))
    .returning({ cancelRequestedAt: jobs.cancelRequestedAt });
  return { applied: rows.length > 0, cancelRequested: rows[0]?.cancelRequestedAt != null };
}

export async function completeAttempt(
  db: Db,
  params: { id: string; fence: number; result: unknown },
): Promise<boolean> {
  const now = new Date();
  const rows = await db
    .update(jobs)
    .set({
      status: 'succeeded',
      result: params.result ?? null,
      error: null,
      progress: 100,
      finishedAt: now,
      updatedAt: now,
    })
    .where(runningWithFence(params.id, params.fence))
    .returning({ id: jobs.id });
  return rows.length > 0;
}

/** A failed attempt: `retrying` until `retryAt` when one is given, otherwise `failed` for good. */
export async function failAttempt(
  db: Db,
  params: { id: string; fence: number; error: JobErrorBody; retryAt: Date | null },
): Promise<boolean> {
  const now = new Date();
  const rows = await db
    .update(jobs)
    .set(
      params.retryAt
        ? { status: 'retrying', error: params.error, runAt: params.retryAt, updatedAt: now }
        : { status: 'failed', error: params.error, finishedAt: now, updatedAt: now },
    )
    .where(runningWithFence(params.id, params.fence))
    .returning({ id: jobs.id });
  return rows.length > 0;
}

/**
 * The worker is shutting down and hands the attempt back: `retrying`, due now, and the attempt is given
 * back to the budget (a graceful stop is not the job's fault; `fence` still moves on at the next start).
 */
export async function interruptAttempt(db: Db, params: { id: string; fence: number }): Promise<boolean> {
  const now = new Date();
  const rows = await db
    .update(jobs)
    .set({
      status: 'retrying',
      attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
      error: {
        code: 'interrupted',
        message: 'The worker shut down during the attempt; another worker takes it.',
      },
      runAt: now,
      updatedAt: now,
    })
    .where(runningWithFence(params.id, params.fence))
    .returning({ id: jobs.id });
  return rows.length > 0;
}

/** The handler stopped because a cancel was asked for. */
export async function cancelAttempt(db: Db, params: { id: string; fence: number }): Promise<boolean> {
  const now = new Date();
  const rows = await db
    .update(jobs)
    .set({ status: 'canceled', finishedAt: now, updatedAt: now })
    .where(and(runningWithFence(params.id, params.fence), isNotNull(jobs.cancelRequestedAt)))
    .returning({ id: jobs.id });
  return rows.length > 0;
}

/** Ids among `ids` that a cancel has been asked for (the worker's fallback when a pub/sub message is missed). */
export async function cancelRequestedAmong(db: Db, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(inArray(jobs.id, ids), eq(jobs.status, 'running'), isNotNull(jobs.cancelRequestedAt)));
  return rows.map((r) => r.id);
}
