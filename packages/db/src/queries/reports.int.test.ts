import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../client';
import { jobs } from '../schema/index';
import { newJob, openReportCursors, rejectionOf, seedJobs, uuidv7At } from '../test-factories';
import { createTestDatabase, type TestDatabase } from '../testing';
import { countJobsForReport, type ReportJobRow, streamJobsForReport } from './reports';
import { createTenant } from './tenants';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});

afterAll(async () => {
  await t?.drop();
});

const tenant = async (name: string) => (await createTenant(t.db, name)).id;
const FROM = Date.parse('2025-03-01T00:00:00Z');
const TO = Date.parse('2025-03-02T00:00:00Z');
const range = { from: new Date(FROM), to: new Date(TO) };

/** A job created at exactly `ms`, as the API would make it (id time = created_at). */
const jobAt = (tenantId: string, ms: number, extra: Parameters<typeof newJob>[1] = {}) =>
  newJob(tenantId, { id: uuidv7At(ms), createdAt: new Date(ms), ...extra });

async function drain(stream: AsyncIterable<ReportJobRow[]>) {
  const batches: ReportJobRow[][] = [];
  for await (const batch of stream) batches.push(batch);
  return batches;
}

describe('streamJobsForReport', () => {
  it('yields the range in creation order, in batches of batchSize', async () => {
    const tenantId = await tenant('batches');
    await t.db.insert(jobs).values(Array.from({ length: 25 }, (_, i) => jobAt(tenantId, FROM + i * 60_000)));
    const batches = await drain(streamJobsForReport(t.db, { tenantId, ...range, batchSize: 10 }));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((r) => r.createdMs)).toEqual(
      Array.from({ length: 25 }, (_, i) => FROM + i * 60_000),
    );
    expect(await openReportCursors(t.db)).toBe(0);
  });

  it("reads only the tenant's own jobs", async () => {
    const mine = await tenant('mine');
    const theirs = await tenant('theirs');
    await t.db
      .insert(jobs)
      .values([
        jobAt(mine, FROM + 1_000, { type: 'mine' }),
        jobAt(theirs, FROM + 2_000, { type: 'theirs' }),
        jobAt(theirs, FROM + 3_000, { type: 'theirs' }),
      ]);
    const rows = (await drain(streamJobsForReport(t.db, { tenantId: mine, ...range }))).flat();
    expect(rows.map((r) => r.type)).toEqual(['mine']);
  });

  it('includes from and excludes to, to the millisecond', async () => {
    const tenantId = await tenant('bounds');
    await t.db
      .insert(jobs)
      .values([FROM - 1, FROM, TO - 1, TO].map((ms) => jobAt(tenantId, ms, { type: `at-${ms - FROM}` })));
    const rows = (await drain(streamJobsForReport(t.db, { tenantId, ...range }))).flat();
    expect(rows.map((r) => r.type)).toEqual(['at-0', `at-${TO - 1 - FROM}`]);
  });

  it('gives the run time of succeeded and failed jobs only, in ms', async () => {
    const tenantId = await tenant('run-times');
    const started = new Date(FROM + 10_000);
    const startedPlus = (ms: number) => new Date(started.getTime() + ms);
    await t.db.insert(jobs).values([
      jobAt(tenantId, FROM + 1, {
        status: 'succeeded',
        startedAt: started,
        finishedAt: startedPlus(1_234),
      }),
      jobAt(tenantId, FROM + 2, { status: 'failed', startedAt: started, finishedAt: startedPlus(56) }),
      jobAt(tenantId, FROM + 3, { status: 'canceled', startedAt: started, finishedAt: startedPlus(999) }),
      jobAt(tenantId, FROM + 4, { status: 'running', startedAt: started }),
      jobAt(tenantId, FROM + 5, { status: 'queued' }),
    ]);
    const rows = (await drain(streamJobsForReport(t.db, { tenantId, ...range }))).flat();
    expect(rows.map((r) => [r.status, r.runMs])).toEqual([
      ['succeeded', 1_234],
      ['failed', 56],
      ['canceled', null],
      ['running', null],
      ['queued', null],
    ]);
  });

  it('closes the cursor and frees the connection when the reader stops early', async () => {
    const tenantId = await tenant('abandoned');
    await t.db.insert(jobs).values(Array.from({ length: 30 }, (_, i) => jobAt(tenantId, FROM + i)));
    // More early exits than the pool has connections: a leaked connection would make this hang.
    for (let i = 0; i < 12; i++) {
      for await (const batch of streamJobsForReport(t.db, { tenantId, ...range, batchSize: 5 })) {
        expect(batch).toHaveLength(5);
        break;
      }
    }
    const thrown = await rejectionOf(
      (async () => {
        for await (const _ of streamJobsForReport(t.db, { tenantId, ...range, batchSize: 5 }))
          throw new Error('reader failed');
      })(),
    );
    expect((thrown as Error).message).toBe('reader failed');
    expect(await openReportCursors(t.db)).toBe(0);
  });

  it("reads for longer than the pool's statement timeout: each batch is its own statement", async () => {
    const tenantId = await tenant('slow-reader');
    await t.db.insert(jobs).values(Array.from({ length: 8 }, (_, i) => jobAt(tenantId, FROM + i)));
    const strict = createDb(t.url, { max: 2, statementTimeoutMs: 200 });
    try {
      let n = 0;
      // Five fetches 100 ms apart: 400+ ms in one cursor, twice the pool's 200 ms statement timeout.
      for await (const batch of streamJobsForReport(strict.db, { tenantId, ...range, batchSize: 2 })) {
        n += batch.length;
        await sleep(100);
      }
      expect(n).toBe(8);
    } finally {
      await strict.close();
    }
  });
});

describe('seedJobs and countJobsForReport', () => {
  it('count exactly what the stream reads, by status, type and UTC day', async () => {
    const tenantId = await tenant('seeded');
    const other = await tenant('seeded-other');
    const from = new Date('2025-01-01T00:00:00Z');
    const to = new Date('2025-01-08T00:00:00Z');
    await seedJobs(t.db, { tenantId, count: 3_000, from, to });
    await seedJobs(t.db, { tenantId: other, count: 500, from, to });
    const rows = (await drain(streamJobsForReport(t.db, { tenantId, from, to, batchSize: 1_000 }))).flat();
    const tally = (key: (r: ReportJobRow) => string) => {
      const counts: Record<string, number> = {};
      for (const r of rows) counts[key(r)] = (counts[key(r)] ?? 0) + 1;
      return counts;
    };
    const counts = await countJobsForReport(t.db, { tenantId, from, to });
    expect(rows).toHaveLength(3_000);
    expect(counts.jobs).toBe(3_000);
    expect(counts.byStatus).toEqual(tally((r) => r.status));
    expect(counts.byType).toEqual(tally((r) => r.type));
    expect(counts.byDay).toEqual(tally((r) => new Date(r.createdMs).toISOString().slice(0, 10)));
    expect(Object.keys(counts.byDay)).toHaveLength(7);
    expect(Object.keys(counts.byStatus).sort()).toEqual(
      ['canceled', 'failed', 'queued', 'retrying', 'running', 'succeeded'].sort(),
    );
    const runs = rows.flatMap((r) => (r.runMs === null ? [] : [r.runMs])).sort((a, b) => a - b);
    expect(counts.runTimeMs).toEqual({
      count: runs.length,
      p50: runs[Math.ceil(0.5 * runs.length) - 1],
      p95: runs[Math.ceil(0.95 * runs.length) - 1],
    });
    expect(runs[0]).toBeGreaterThanOrEqual(20);
    expect(runs.at(-1)).toBeLessThanOrEqual(8_000);
  });
});
