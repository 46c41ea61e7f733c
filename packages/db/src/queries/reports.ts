import { type JobStatus, uuidv7Floor } from '@conveyor/shared';
import { and, asc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import { type Db, driverOf } from '../client';
import { jobs } from '../schema/index';

/** One job as a report sees it: only what a summary needs, times already reduced to numbers. */
export interface ReportJobRow {
  type: string;
  status: JobStatus;
  /** created_at, in ms since the Unix epoch. */
  createdMs: number;
  /** finished_at − started_at in ms (the last attempt's run) for succeeded and failed jobs, else null. */
  runMs: number | null;
}

export interface StreamReportJobsParams {
  tenantId: string;
  /** Jobs created at or after this instant. */
  from: Date;
  /** Jobs created before this instant. */
  to: Date;
  /** Rows fetched per round trip, and so held in memory at once; default 2 000. */
  batchSize?: number;
}

/** The report's cursor, as Postgres names it (pg_stat_activity shows it in the session's query). */
export const REPORT_CURSOR = 'report_rows';

/**
 * A timestamp's epoch time, or an interval's length, in ms as float8, exact to the µs. date_part is float8
 * arithmetic, about 4× cheaper per row than extract()'s numeric; rounding at the µs removes its float noise.
 */
const epochMs = (value: SQL) => sql`(round(date_part('epoch', ${value}) * 1000000) / 1000)`;

/**
 * The statement that opens the report's cursor over the tenant's jobs in [from, to), in id order; exported
 * for plan tests. The id bounds ride the (tenant_id, id) index because the API makes created_at the UUIDv7
 * id's own time, and a declared cursor is planned for a fast start (cursor_tuple_fraction), so Postgres
 * walks that index in order instead of sorting a large range before the first row.
 */
export function reportCursorStatement(db: Db, params: { tenantId: string; from: Date; to: Date }) {
  const query = db
    .select({
      type: jobs.type,
      status: jobs.status,
      createdMs: sql<number>`${epochMs(sql`${jobs.createdAt}`)}`.as('createdMs'),
      runMs: sql<number | null>`case when ${jobs.status} in ('succeeded', 'failed')
        then ${epochMs(sql`${jobs.finishedAt} - ${jobs.startedAt}`)} end`.as('runMs'),
    })
    .from(jobs)
    .where(
      and(
        eq(jobs.tenantId, params.tenantId),
        gte(jobs.id, uuidv7Floor(params.from)),
        lt(jobs.id, uuidv7Floor(params.to)),
      ),
    )
    .orderBy(asc(jobs.id))
    .toSQL();
  return { sql: `declare ${REPORT_CURSOR} no scroll cursor for ${query.sql}`, params: query.params };
}

/**
 * The tenant's jobs created in [from, to), in id (= creation) order, streamed through a server-side
 * cursor in batches of `batchSize`: memory holds one batch whatever the range holds.
 *
 * The cursor lives in a read-only transaction (one snapshot for the whole report) on a connection reserved
 * from the pool until the generator finishes or is abandoned (`break`, `return`, a throw in the loop), which
 * rolls back and hands the connection back. Each batch is its own FETCH, so the pool's per-statement timeout
 * bounds one round trip, not the whole report, and the next batch is fetched only when asked for: a slow
 * consumer slows the read, it does not fill the heap.
 */
export async function* streamJobsForReport(
  db: Db,
  params: StreamReportJobsParams,
): AsyncGenerator<ReportJobRow[], void, undefined> {
  const batchSize = params.batchSize ?? 2_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`bad batchSize ${batchSize}`);
  const declare = reportCursorStatement(db, params);
  const conn = await driverOf(db).reserve();
  let open = false;
  try {
    await conn`begin read only`;
    open = true;
    await conn.unsafe(declare.sql, declare.params as never[]);
    for (;;) {
      // The select list's aliases are ReportJobRow's fields: rows are yielded as postgres.js parsed them.
      const rows = await conn.unsafe<ReportJobRow[]>(`fetch forward ${batchSize} from ${REPORT_CURSOR}`);
      if (rows.length > 0) yield rows;
      if (rows.length < batchSize) break;
    }
    await conn`commit`;
    open = false;
  } finally {
    // Abandoned or failed: end the transaction so the connection goes back to the pool clean.
    if (open) await conn`rollback`.catch(() => undefined);
    conn.release();
  }
}

export interface ReportCounts {
  jobs: number;
  byStatus: Record<string, number>;
  byType: Record<string, number>;
  /** UTC day (YYYY-MM-DD) → jobs created that day. */
  byDay: Record<string, number>;
  /** Exact nearest-rank percentiles (percentile_disc) of the run times ReportJobRow.runMs describes. */
  runTimeMs: { count: number; p50: number | null; p95: number | null };
}

/** The same range counted by Postgres in one go: the reference the streamed report is checked against. */
export async function countJobsForReport(
  db: Db,
  params: { tenantId: string; from: Date; to: Date },
): Promise<ReportCounts> {
  const inRange = and(
    eq(jobs.tenantId, params.tenantId),
    gte(jobs.id, uuidv7Floor(params.from)),
    lt(jobs.id, uuidv7Floor(params.to)),
  );
  const day = sql<string>`to_char(${jobs.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await db
    .select({ type: jobs.type, status: jobs.status, day, n: sql<number>`count(*)::int` })
    .from(jobs)
    .where(inRange)
    .groupBy(jobs.type, jobs.status, day);
  const run = sql`case when ${jobs.status} in ('succeeded', 'failed')
    then ${epochMs(sql`${jobs.finishedAt} - ${jobs.startedAt}`)} end`;
  const [runTimeMs] = await db
    .select({
      count: sql<number>`count(${run})::int`,
      p50: sql<number | null>`percentile_disc(0.5) within group (order by ${run})`,
      p95: sql<number | null>`percentile_disc(0.95) within group (order by ${run})`,
    })
    .from(jobs)
    .where(inRange);
  const counts: ReportCounts = { jobs: 0, byStatus: {}, byType: {}, byDay: {}, runTimeMs: runTimeMs! };
  for (const r of rows) {
    counts.jobs += r.n;
    counts.byStatus[r.status] = (counts.byStatus[r.status] ?? 0) + r.n;
    counts.byType[r.type] = (counts.byType[r.type] ?? 0) + r.n;
    counts.byDay[r.day] = (counts.byDay[r.day] ?? 0) + r.n;
  }
  return counts;
}
