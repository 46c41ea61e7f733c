import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from './client';
import { countActiveJobs } from './queries/active-jobs';
import { type ListJobsParams, listJobs } from './queries/jobs';
import { scanQuietActiveJobs } from './queries/reconcile';
import { reportCursorStatement } from './queries/reports';
import * as schema from './schema/index';
import { createTestDatabase, type TestDatabase } from './testing';

/**
 * Every list filter and the reconciler's scan must be served by an index, not a scan of the whole jobs
 * table. The table is filled like a month of production traffic — 20k jobs across 50 tenants, mostly
 * finished, the active ones recent — and the planner is left to choose (seqscan stays enabled). The SQL
 * and parameters explained are the ones the query functions really send, captured by drizzle's logger.
 */
const JOBS = 20_000;
const TENANTS = 50;
const DAY_MS = 24 * 3600 * 1000;

let t: TestDatabase;
let client: postgres.Sql;
let db: Db;
let captured: { query: string; params: unknown[] } | undefined;
let largest: string;
let median: string;
let sizes: number[];
let largestJobIds: string[];

beforeAll(async () => {
  t = await createTestDatabase();
  client = postgres(t.url, { max: 2, onnotice: () => {} });
  db = drizzle(client, {
    schema,
    logger: {
      logQuery(query, params) {
        captured = { query, params };
      },
    },
  });

  await client`INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'tenant ' || n FROM generate_series(1, ${TENANTS}) AS n`;
  // One job every 130 s over the last 30 days. Ids are UUIDv7 of the creation time (the API's ids); tenants
  // (a few large ones, a long tail of small ones), statuses and types are spread by hash. The newest 1,000 jobs are partly still active; older ones are almost
  // all finished, with a few stuck active rows for the reconciler to find. Types and queues: mostly emails.
  await client.unsafe(`
    WITH tenant_ids AS (SELECT array_agg(id ORDER BY id) AS ids FROM tenants),
    g AS (
      SELECT n,
             (extract(epoch FROM now()) * 1000)::bigint - (${JOBS} - n)::bigint * 130000 AS ms,
             -- Tenant sizes follow a power law: the largest holds about 7% of all jobs, the smallest about 1%.
             floor(${TENANTS} * power(((hashint4(n) & 2147483647) % 1000000) / 1000000.0, 1.5))::int AS tenant_ix,
             (hashint4(n + 1000000) & 2147483647) % 1000 AS s,
             (hashint4(n + 2000000) & 2147483647) % 100 AS k
      FROM generate_series(1, ${JOBS}) AS n
    ),
    j AS (
      SELECT g.*,
             CASE
               WHEN n > ${JOBS - 1000} THEN CASE
                 WHEN s < 400 THEN 'queued' WHEN s < 600 THEN 'running' WHEN s < 650 THEN 'retrying'
                 WHEN s < 950 THEN 'succeeded' ELSE 'failed' END
               ELSE CASE
                 WHEN s < 920 THEN 'succeeded' WHEN s < 970 THEN 'failed' WHEN s < 995 THEN 'canceled'
                 WHEN s < 998 THEN 'queued' ELSE 'running' END
             END AS status,
             CASE WHEN k < 60 THEN 'email.send' WHEN k < 85 THEN 'image.resize'
                  WHEN k < 95 THEN 'report.generate' ELSE 'noop' END AS type,
             to_timestamp(ms / 1000.0) AS created
      FROM g
    )
    INSERT INTO jobs (id, tenant_id, type, queue, status, priority, payload, result, progress, attempts,
                      max_attempts, fence, timeout_ms, run_at, created_at, started_at, finished_at, updated_at)
    SELECT (lpad(to_hex(ms), 12, '0') || '7' || lpad(to_hex(n % 4096), 3, '0')
              || substr('89ab', 1 + n % 4, 1) || substr(md5(n::text), 1, 15))::uuid,
           (SELECT ids FROM tenant_ids)[1 + tenant_ix],
           type,
           CASE type WHEN 'email.send' THEN 'emails' WHEN 'image.resize' THEN 'images'
                     WHEN 'report.generate' THEN 'reports' ELSE 'default' END,
           status,
           CASE WHEN k % 10 = 0 THEN 10 ELSE 0 END,
           jsonb_build_object('to', 'user' || n || '@example.com', 'template', 'welcome', 'locale', 'en'),
           CASE WHEN status = 'succeeded' THEN jsonb_build_object('messageId', md5(n::text)) END,
           CASE WHEN status = 'succeeded' THEN 100 ELSE 0 END,
           CASE WHEN status = 'queued' THEN 0 ELSE 1 END,
           3,
           CASE WHEN status = 'queued' THEN 0 ELSE 1 END,
           120000,
           created,
           created,
           CASE WHEN status <> 'queued' THEN created + interval '1 second' END,
           CASE WHEN status IN ('succeeded', 'failed', 'canceled') THEN created + interval '3 seconds' END,
           CASE
             WHEN status IN ('succeeded', 'failed', 'canceled') THEN created + interval '3 seconds'
             WHEN n > ${JOBS - 1000} THEN now() - make_interval(secs => s % 60)
             ELSE created
           END
    FROM j`);
  await client`ANALYZE jobs`;
  await client`ANALYZE tenants`;

  const bySize = await client<{ tenant_id: string; jobs: number }[]>`
    SELECT tenant_id, count(*)::int AS jobs FROM jobs GROUP BY tenant_id ORDER BY count(*) DESC, tenant_id`;
  largest = bySize[0]!.tenant_id;
  median = bySize[Math.floor(bySize.length / 2)]!.tenant_id;
  sizes = bySize.map((row) => row.jobs);
  largestJobIds = (
    await client<
      { id: string }[]
    >`SELECT id FROM jobs WHERE tenant_id = ${largest} ORDER BY md5(id::text) LIMIT 20`
  ).map((r) => r.id);
}, 60_000);

afterAll(async () => {
  await client?.end({ timeout: 5 });
  await t?.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/** Runs `run`, then EXPLAINs the statement it sent with the parameters it sent. */
async function planOf(run: () => Promise<unknown>): Promise<{ nodes: PlanNode[]; text: string }> {
  captured = undefined;
  await run();
  const statement = captured as { query: string; params: unknown[] } | undefined;
  if (!statement) throw new Error('no query captured');
  const [row] = await client.unsafe(`EXPLAIN (FORMAT JSON) ${statement.query}`, statement.params as never[]);
  const plan = (row!['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
  const text = (await client.unsafe(`EXPLAIN ${statement.query}`, statement.params as never[]))
    .map((r) => r['QUERY PLAN'] as string)
    .join('\n');
  return { nodes: nodesOf(plan), text };
}

type ScanKind = 'Index Scan' | 'Bitmap Index Scan';

/** No Seq Scan on jobs, and one of `indexes` read by one of `kinds` (an Index Only Scan counts as an Index Scan). */
function expectIndexUse(
  plan: { nodes: PlanNode[]; text: string },
  indexes: readonly string[],
  kinds: readonly ScanKind[],
) {
  const seqScans = plan.nodes.filter((node) => node['Node Type'] === 'Seq Scan');
  expect(seqScans, `no Seq Scan on jobs:\n${plan.text}`).toEqual([]);
  const accepted: string[] = kinds.flatMap((kind) =>
    kind === 'Index Scan' ? [kind, 'Index Only Scan'] : [kind],
  );
  expect(
    plan.nodes.some(
      (node) => accepted.includes(node['Node Type']) && indexes.includes(node['Index Name'] ?? ''),
    ),
    `expected ${kinds.join(' or ')} on ${indexes.join(' or ')}:\n${plan.text}`,
  ).toBe(true);
}

type ListFilter = Omit<ListJobsParams, 'tenantId' | 'limit'>;

/** The API's default page size. */
const PAGE = 20;

const listPlan = (tenantId: string, filter: ListFilter) =>
  planOf(() => listJobs(db, { tenantId, limit: PAGE, ...filter }));

const variants: [name: string, filter: () => ListFilter, index: string][] = [
  ['no filter', () => ({}), 'jobs_tenant_id_idx'],
  ['a status filter', () => ({ statuses: ['failed'] }), 'jobs_tenant_status_idx'],
  ['a type filter', () => ({ type: 'report.generate' }), 'jobs_tenant_type_idx'],
  ['a queue filter', () => ({ queue: 'reports' }), 'jobs_tenant_queue_idx'],
  ['created_after', () => ({ createdAfter: new Date(Date.now() - DAY_MS) }), 'jobs_tenant_id_idx'],
  [
    'created_after and a cursor',
    () => ({ createdAfter: new Date(Date.now() - 7 * DAY_MS), beforeId: largestJobIds[0] }),
    'jobs_tenant_id_idx',
  ],
];

describe('query plans on a month of jobs (20k jobs, 50 tenants)', () => {
  it('seeds a realistic table: skewed tenants, few active jobs', async () => {
    const [stats] = await client<{ total: number; active: number }[]>`
      SELECT count(*)::int AS total,
             count(*) FILTER (WHERE status IN ('queued', 'running', 'retrying'))::int AS active
      FROM jobs`;
    expect(stats!.total).toBe(JOBS);
    expect(stats!.active / JOBS).toBeLessThan(0.06);
    expect(sizes).toHaveLength(TENANTS);
    expect(sizes[0]! / JOBS).toBeGreaterThan(0.05);
    expect(sizes.at(-1)! / JOBS).toBeLessThan(0.02);
    expect(largestJobIds).toHaveLength(20);
  });

  it.each([
    ...variants,
    ['several statuses', () => ({ statuses: ['failed', 'canceled'] }), 'jobs_tenant_status_idx'],
  ] as typeof variants)('lists a typical tenant with %s through %s', async (_name, filter, index) => {
    expectIndexUse(await listPlan(median, filter()), [index], ['Index Scan', 'Bitmap Index Scan']);
  });

  /**
   * For a tenant holding ~7% of the table, walking the primary key backwards and skipping other tenants'
   * rows can be cheaper than the tenant index (the heap is in id order), and the planner may pick it. Either
   * way a page must be read in index order and stop at the limit: no sort of the tenant's rows.
   */
  it.each(variants)(
    'pages the largest tenant with %s in index order, without sorting',
    async (_name, filter, index) => {
      const plan = await listPlan(largest, filter());
      expectIndexUse(plan, [index, 'jobs_pkey'], ['Index Scan']);
      expect(
        plan.nodes.filter((node) => node['Node Type'] === 'Sort'),
        plan.text,
      ).toEqual([]);
    },
  );

  it('lists by ids through the primary key', async () => {
    expectIndexUse(await listPlan(largest, { ids: largestJobIds }), ['jobs_pkey'], ['Index Scan']);
    expectIndexUse(await listPlan(median, { ids: largestJobIds }), ['jobs_pkey'], ['Index Scan']);
  });

  it("opens a report's cursor on a tenant's range through jobs_tenant_id_idx, in index order", async () => {
    const to = new Date();
    for (const tenantId of [median, largest]) {
      for (const days of [1, 7, 30]) {
        const from = new Date(to.getTime() - days * DAY_MS);
        // EXPLAIN DECLARE plans the cursor as the report opens it (for a fast start).
        const plan = await planOf(async () => {
          const declare = reportCursorStatement(db, { tenantId, from, to });
          captured = { query: declare.sql, params: declare.params };
        });
        expectIndexUse(plan, ['jobs_tenant_id_idx', 'jobs_pkey'], ['Index Scan']);
        expect(
          plan.nodes.filter((node) => node['Node Type'] === 'Sort'),
          plan.text,
        ).toEqual([]);
      }
    }
  });

  it("counts a tenant's unfinished jobs (the active-job cap) through an index, never the table", async () => {
    for (const tenantId of [median, largest]) {
      const plan = await planOf(() => countActiveJobs(db, tenantId));
      // Either the tenant's status range or, while unfinished jobs are few overall, all of them by the partial index.
      expectIndexUse(
        plan,
        ['jobs_tenant_status_idx', 'jobs_active_idx'],
        ['Index Scan', 'Bitmap Index Scan'],
      );
    }
  });

  it('scans quiet active jobs through the partial index jobs_active_idx, in id order', async () => {
    const untouchedSince = new Date(Date.now() - 60_000);
    for (const afterId of [undefined, largestJobIds[0]]) {
      const plan = await planOf(() => scanQuietActiveJobs(db, { untouchedSince, afterId, limit: 500 }));
      expectIndexUse(plan, ['jobs_active_idx'], ['Index Scan']);
      expect(
        plan.nodes.filter((node) => node['Node Type'] === 'Sort'),
        plan.text,
      ).toEqual([]);
    }
  });
});
