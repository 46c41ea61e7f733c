import { type Db, driverOf } from '../client';
import { type JobRow, jobs } from '../schema/index';
import { rawRowMapper } from './raw-rows';

/**
 * The two writes every attempt makes — its start and its success — for many jobs in one statement each.
 * A busy worker's concurrent jobs start and finish within the same turn of the event loop; one UPDATE … FROM
 * (VALUES …) per turn replaces one round trip per job (on this machine a socket write to another process
 * costs more CPU than the rest of a noop job: docs/performance.md). Every row keeps its own conditions —
 * generation, status, cancel and budget at the start; fence and status at the end — so the fencing of
 * job-runs.ts holds row by row: a row whose condition fails is simply not in the answer.
 */
const jobRows = rawRowMapper(jobs);

/** Starts the attempts it can: the rows that now run, by id. Anything missing goes to `startAttempt`. */
export async function startAttempts(
  db: Db,
  items: readonly { id: string; generation: number }[],
): Promise<Map<string, JobRow>> {
  if (items.length === 0) return new Map();
  const sql = driverOf(db);
  const now = new Date().toISOString();
  const raw = await sql<Record<string, unknown>[]>`
    UPDATE jobs SET
      status = 'running', attempts = jobs.attempts + 1, fence = jobs.fence + 1, progress = 0,
      started_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
    FROM (VALUES ${sql(items.map((i) => [i.id, i.generation]))}) AS v (id, generation)
    WHERE jobs.id = v.id::uuid AND jobs.generation = v.generation::int
      AND jobs.status IN ('queued', 'running', 'retrying') AND jobs.cancel_requested_at IS NULL
      AND jobs.attempts < jobs.max_attempts
    RETURNING jobs.*`;
  return new Map(raw.map((r) => [r.id as string, jobRows.fromRow(r)]));
}

/** Records the successes whose fence still holds; answers the ids it recorded. */
export async function completeAttempts(
  db: Db,
  items: readonly { id: string; fence: number; result: unknown }[],
): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const sql = driverOf(db);
  const now = new Date().toISOString();
  // A missing result is SQL NULL, as through drizzle (sent as '', which no JSON text is); anything else is
  // its JSON text, cast per row.
  const values = items.map((i) => [i.id, i.fence, i.result == null ? '' : JSON.stringify(i.result)]);
  const raw = await sql<{ id: string }[]>`
    UPDATE jobs SET
      status = 'succeeded', result = NULLIF(v.result, '')::jsonb, error = NULL, progress = 100,
      finished_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
    FROM (VALUES ${sql(values)}) AS v (id, fence, result)
    WHERE jobs.id = v.id::uuid AND jobs.fence = v.fence::int AND jobs.status = 'running'
    RETURNING jobs.id`;
  return new Set(raw.map((r) => r.id));
}
