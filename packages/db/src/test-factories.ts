/** Test-only helpers for the db package's integration tests: row factories and error inspection. */
import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@conveyor/shared';
import { sql } from 'drizzle-orm';
import type { Db } from './client';
import { REPORT_CURSOR } from './queries/reports';
import type { NewJobRow } from './schema/index';

/** A queued `noop` job row for `tenantId`; any column can be overridden. */
export function newJob(tenantId: string, overrides: Partial<NewJobRow> = {}): NewJobRow {
  const now = new Date();
  return {
    id: uuidv7(),
    tenantId,
    type: 'noop',
    queue: 'default',
    status: 'queued',
    payload: {},
    maxAttempts: 3,
    timeoutMs: 120_000,
    runAt: now,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/**
 * A UUIDv7 for an exact millisecond. Unlike uuidv7(now), it ignores the process-wide monotonic state, which
 * would move an id for a past millisecond forward to the latest one handed out.
 */
export function uuidv7At(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The SQLSTATE of a Postgres error, looked for through drizzle's DrizzleQueryError wrapper. */
export function pgErrorOf(error: unknown): { code?: string; message?: string } | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return e as { code: string; message: string };
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Awaits `promise`, expecting it to reject, and returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** Types seedJobs uses, in proportion 3 : 2 : 1 : 1. */
export const SEEDED_JOB_TYPES = ['noop', 'email.send', 'image.resize', 'report.generate'] as const;

/** A SQL text[] literal of fixed, quote-free words (drizzle would expand a JS array into a list). */
const textArray = (words: readonly string[]) => sql.raw(`ARRAY[${words.map((w) => `'${w}'`).join(', ')}]`);

/**
 * Inserts `count` finished and unfinished jobs for `tenantId` created in [from, to), in one statement
 * (100 000 rows in about 10 s on 2 cores, half of it the job_events trigger). Deterministic apart from the ids' random bits: row i gets a type by
 * i mod 7, a status by (31 i) mod 20 (60 % succeeded, 15 % failed, 10 % canceled, 5 % each queued,
 * running, retrying), a creation time skewed towards `from` (so days differ), and a run time spread
 * log-uniformly over 20 ms … 8 s. created_at is the UUIDv7 id's millisecond, as the API makes it.
 * updated_at is now, so a reconciler with any grace period leaves the unfinished ones alone for that long.
 */
export async function seedJobs(
  db: Db,
  params: { tenantId: string; count: number; from: Date; to: Date },
): Promise<void> {
  const [noop, email, image, report] = SEEDED_JOB_TYPES;
  const types = textArray([noop, noop, noop, email, email, image, report]);
  const statuses = textArray([
    ...Array<string>(12).fill('succeeded'),
    ...Array<string>(3).fill('failed'),
    ...Array<string>(2).fill('canceled'),
    'queued',
    'running',
    'retrying',
  ]);
  const from = params.from.toISOString();
  const to = params.to.toISOString();
  await db.execute(sql`
    WITH g AS (
      SELECT i,
        date_trunc('milliseconds', ${from}::timestamptz
          + (${to}::timestamptz - ${from}::timestamptz) * power((i - 1)::float8 / ${params.count}, 1.5)) AS created,
        (${types})[i % 7 + 1] AS type,
        (${statuses})[(i * 31) % 20 + 1] AS status,
        make_interval(secs => round(20 * exp(((i::bigint * 7919) % 1000) / 1000.0 * ln(400))) / 1000.0) AS run,
        md5(random()::text) AS h
      FROM generate_series(1, ${params.count}::int) AS i
    )
    INSERT INTO jobs (id, tenant_id, type, queue, status, payload, attempts, max_attempts, timeout_ms,
                      run_at, created_at, started_at, finished_at, updated_at)
    SELECT
      (lpad(to_hex((extract(epoch from created) * 1000)::bigint), 12, '0')
        || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
      ${params.tenantId}::uuid, type, 'default', status, '{}'::jsonb,
      CASE WHEN status = 'queued' THEN 0 ELSE 1 END, 3, 120000, created, created,
      CASE WHEN status IN ('succeeded', 'failed', 'running', 'retrying') THEN created + interval '5 ms' END,
      CASE WHEN status IN ('succeeded', 'failed') THEN created + interval '5 ms' + run
           WHEN status = 'canceled' THEN created + interval '1 s' END,
      now()
    FROM g`);
}

/**
 * Sessions of this database (other than the caller's) still inside a report's cursor transaction: the last
 * statement they sent names the cursor and their transaction is open. 0 once every report closed its read.
 */
export async function openReportCursors(db: Db): Promise<number> {
  const rows = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()
          and xact_start is not null and query like ${`%${REPORT_CURSOR}%`}`,
  );
  return rows[0]!.n;
}
