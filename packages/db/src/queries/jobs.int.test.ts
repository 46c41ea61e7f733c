import { randomUUID } from 'node:crypto';
import { uuidv7 } from '@conveyor/shared';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobRow, jobs } from '../schema/index';
import { newJob, uuidv7At } from '../test-factories';
import { createTestDatabase, type TestDatabase } from '../testing';
import { listJobEvents } from './job-events';
import { completeAttempt, failAttempt, startAttempt } from './job-runs';
import { findJob, insertJob, insertSubmittedJobs, listJobs, requestCancel, requeueJob } from './jobs';
import { createTenant } from './tenants';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});

afterAll(async () => {
  await t?.drop();
});

const tenant = async (name: string) => (await createTenant(t.db, name)).id;

async function rowOf(id: string): Promise<JobRow> {
  const [row] = await t.db.select().from(jobs).where(eq(jobs.id, id));
  return row!;
}

describe('insertSubmittedJobs (one statement for many submits)', () => {
  it('inserts keyed and unkeyed rows together; a key repeated in the batch or already held answers its holder', async () => {
    const tenantId = await tenant('coalesced');
    const held = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'held' }));
    const values = [
      newJob(tenantId),
      newJob(tenantId, { idempotencyKey: 'fresh' }),
      newJob(tenantId, { idempotencyKey: 'fresh' }),
      newJob(tenantId, { idempotencyKey: 'held' }),
      newJob(tenantId),
    ];
    const results = await insertSubmittedJobs(t.db, values);
    expect(results.map((r) => r.created)).toEqual([true, true, false, false, true]);
    expect(results[2]!.row.id).toBe(results[1]!.row.id);
    expect(results[3]!.row.id).toBe(held.row.id);
    for (const i of [0, 1, 4]) expect(results[i]!.row).toEqual(await rowOf(values[i]!.id));
  });

  it('releases a key held past the window and inserts the new job', async () => {
    const tenantId = await tenant('expired-key');
    const old = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'k' }));
    await t.db
      .update(jobs)
      .set({ createdAt: sql`now() - interval '25 hours'` })
      .where(eq(jobs.id, old.row.id));
    const [result] = await insertSubmittedJobs(t.db, [newJob(tenantId, { idempotencyKey: 'k' })]);
    expect(result!.created).toBe(true);
    expect(result!.row.id).not.toBe(old.row.id);
    expect((await rowOf(old.row.id)).idempotencyKey).toBeNull();
  });
});

describe('insertJob idempotency', () => {
  it('settles 20 concurrent inserts with one key on exactly one job', async () => {
    const tenantId = await tenant('racing');
    const key = `order-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => insertJob(t.db, newJob(tenantId, { idempotencyKey: key }))),
    );
    const created = results.filter((r) => r.created);
    expect(created).toHaveLength(1);
    const winner = created[0]!.row;
    for (const result of results) expect(result.row.id).toBe(winner.id);

    const [count] = await t.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM jobs WHERE tenant_id = ${tenantId}`,
    );
    expect(count!.n).toBe(1);
    expect((await listJobEvents(t.db, tenantId, winner.id)).map((e) => e.type)).toEqual(['queued']);
  });

  it('returns the earlier job, unchanged, for a repeated key', async () => {
    const tenantId = await tenant('replay');
    const first = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'k', payload: { n: 1 } }));
    const again = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'k', payload: { n: 2 } }));
    expect(first.created).toBe(true);
    expect(again).toEqual({ created: false, row: first.row });
  });

  it('creates a separate job when another tenant uses the same key', async () => {
    const a = await tenant('key-a');
    const b = await tenant('key-b');
    const inA = await insertJob(t.db, newJob(a, { idempotencyKey: 'shared-key' }));
    const inB = await insertJob(t.db, newJob(b, { idempotencyKey: 'shared-key' }));
    expect(inA.created).toBe(true);
    expect(inB.created).toBe(true);
    expect(inB.row.id).not.toBe(inA.row.id);
    expect(inB.row.tenantId).toBe(b);
  });

  it('still honours a key used 23 hours ago', async () => {
    const tenantId = await tenant('recent-key');
    const first = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'day-old' }));
    await t.db.execute(
      sql`UPDATE jobs SET created_at = now() - interval '23 hours' WHERE id = ${first.row.id}`,
    );
    const again = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'day-old' }));
    expect(again.created).toBe(false);
    expect(again.row.id).toBe(first.row.id);
  });

  it('releases a key older than 24 hours and creates a new job', async () => {
    const tenantId = await tenant('old-key');
    const first = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'stale' }));
    await t.db.execute(
      sql`UPDATE jobs SET created_at = now() - interval '25 hours' WHERE id = ${first.row.id}`,
    );
    const again = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'stale' }));
    expect(again.created).toBe(true);
    expect(again.row.id).not.toBe(first.row.id);
    expect(again.row.idempotencyKey).toBe('stale');
    // The old job lives on; it has only forgotten the key.
    expect(await rowOf(first.row.id)).toMatchObject({ idempotencyKey: null, status: 'queued' });
    // And the key now names the new job.
    const third = await insertJob(t.db, newJob(tenantId, { idempotencyKey: 'stale' }));
    expect(third).toMatchObject({ created: false, row: { id: again.row.id } });
  });

  it('always creates a job when no key is given', async () => {
    const tenantId = await tenant('no-key');
    const a = await insertJob(t.db, newJob(tenantId));
    const b = await insertJob(t.db, newJob(tenantId));
    expect([a.created, b.created]).toEqual([true, true]);
    expect(a.row.id).not.toBe(b.row.id);
  });
});

describe('listJobs', () => {
  /** Jobs of one tenant one second apart, starting at `startMs`; newest last. */
  async function seed(
    tenantId: string,
    count: number,
    startMs: number,
    pick: (i: number) => Partial<JobRow> = () => ({}),
  ) {
    const rows = Array.from({ length: count }, (_, i) => {
      const ms = startMs + i * 1_000;
      return newJob(tenantId, { id: uuidv7At(ms), createdAt: new Date(ms), ...pick(i) });
    });
    await t.db.insert(jobs).values(rows);
    return rows.map((row) => row.id);
  }

  it('visits every row exactly once, newest first, when paging with beforeId', async () => {
    const tenantId = await tenant('paging');
    const other = await tenant('paging-other');
    const start = Date.now() - 3_600_000;
    const ids = await seed(tenantId, 25, start);
    await seed(other, 10, start + 500);

    const seen: string[] = [];
    let beforeId: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await listJobs(t.db, { tenantId, beforeId, limit: 7 });
      pages++;
      seen.push(...page.rows.map((r) => r.id));
      if (!page.hasMore) break;
      expect(page.rows).toHaveLength(7);
      beforeId = page.rows.at(-1)!.id;
    }
    expect(pages).toBe(4);
    expect(seen).toEqual([...ids].reverse());
  });

  it('reports hasMore false on an exactly full last page', async () => {
    const tenantId = await tenant('exact-page');
    await seed(tenantId, 6, Date.now() - 60_000);
    const first = await listJobs(t.db, { tenantId, limit: 3 });
    expect(first.hasMore).toBe(true);
    const second = await listJobs(t.db, { tenantId, limit: 3, beforeId: first.rows.at(-1)!.id });
    expect(second.rows).toHaveLength(3);
    expect(second.hasMore).toBe(false);
  });

  it('bounds by creation time: createdAfter inclusive, createdBefore exclusive', async () => {
    const tenantId = await tenant('time-bounds');
    const start = Date.UTC(2024, 5, 1, 12, 0, 0);
    const ids = await seed(tenantId, 20, start); // one job per second: ids[i] at start + i s

    const after = await listJobs(t.db, { tenantId, createdAfter: new Date(start + 5_000), limit: 100 });
    expect(after.rows.map((r) => r.id)).toEqual(ids.slice(5).reverse());

    const before = await listJobs(t.db, { tenantId, createdBefore: new Date(start + 10_000), limit: 100 });
    expect(before.rows.map((r) => r.id)).toEqual(ids.slice(0, 10).reverse());

    const between = await listJobs(t.db, {
      tenantId,
      createdAfter: new Date(start + 5_000),
      createdBefore: new Date(start + 10_000),
      limit: 100,
    });
    expect(between.rows.map((r) => r.id)).toEqual(ids.slice(5, 10).reverse());

    // A bound one millisecond past a job's creation excludes that job.
    const mid = await listJobs(t.db, { tenantId, createdAfter: new Date(start + 5_001), limit: 100 });
    expect(mid.rows.map((r) => r.id)).toEqual(ids.slice(6).reverse());
  });

  it('filters by status, type, queue and ids', async () => {
    const tenantId = await tenant('filters');
    const kinds = [
      { type: 'noop', queue: 'default', status: 'queued' },
      { type: 'email.send', queue: 'emails', status: 'succeeded' },
      { type: 'image.resize', queue: 'images', status: 'failed' },
    ] as const;
    const ids = await seed(tenantId, 9, Date.now() - 600_000, (i) => kinds[i % 3]!);
    const idsWhere = (pred: (i: number) => boolean) => ids.filter((_, i) => pred(i)).reverse();
    const list = async (params: Omit<Parameters<typeof listJobs>[1], 'tenantId' | 'limit'>) =>
      (await listJobs(t.db, { tenantId, limit: 100, ...params })).rows.map((r) => r.id);

    expect(await list({ statuses: ['failed'] })).toEqual(idsWhere((i) => i % 3 === 2));
    expect(await list({ statuses: ['queued', 'failed'] })).toEqual(idsWhere((i) => i % 3 !== 1));
    expect(await list({ type: 'email.send' })).toEqual(idsWhere((i) => i % 3 === 1));
    expect(await list({ queue: 'images' })).toEqual(idsWhere((i) => i % 3 === 2));
    expect(await list({ ids: [ids[0]!, ids[4]!, randomUUID()] })).toEqual([ids[4], ids[0]]);
    expect(await list({ type: 'email.send', statuses: ['failed'] })).toEqual([]);
  });

  it("never shows another tenant's rows, even when asked for their ids", async () => {
    const a = await tenant('scope-a');
    const b = await tenant('scope-b');
    const start = Date.now() - 120_000;
    const aIds = await seed(a, 5, start);
    const bIds = await seed(b, 5, start + 1);

    const listed = (await listJobs(t.db, { tenantId: b, limit: 100 })).rows;
    expect(listed.map((r) => r.id)).toEqual([...bIds].reverse());
    expect(listed.every((r) => r.tenantId === b)).toBe(true);
    expect((await listJobs(t.db, { tenantId: b, ids: aIds, limit: 100 })).rows).toEqual([]);
    expect(await findJob(t.db, b, aIds[0]!)).toBeUndefined();
    expect((await listJobs(t.db, { tenantId: randomUUID(), limit: 100 })).rows).toEqual([]);
  });
});

describe('requestCancel', () => {
  it('cancels a queued job at once', async () => {
    const tenantId = await tenant('cancel-queued');
    const { row } = await insertJob(t.db, newJob(tenantId));
    const outcome = await requestCancel(t.db, tenantId, row.id);
    expect(outcome).toMatchObject({ outcome: 'canceled', row: { id: row.id, status: 'canceled' } });
    expect((await rowOf(row.id)).finishedAt).toBeInstanceOf(Date);
  });

  it('cancels a retrying job at once', async () => {
    const tenantId = await tenant('cancel-retrying');
    const { row } = await insertJob(t.db, newJob(tenantId));
    const started = await startAttempt(t.db, row.id, 0);
    if (started.kind !== 'run') throw new Error('expected to run');
    await failAttempt(t.db, {
      id: row.id,
      fence: started.row.fence,
      error: { code: 'x', message: 'x' },
      retryAt: new Date(Date.now() + 60_000),
    });
    expect(await requestCancel(t.db, tenantId, row.id)).toMatchObject({ outcome: 'canceled' });
  });

  it('asks a running job to stop, and asking again is harmless', async () => {
    const tenantId = await tenant('cancel-running');
    const { row } = await insertJob(t.db, newJob(tenantId));
    await startAttempt(t.db, row.id, 0);
    const first = await requestCancel(t.db, tenantId, row.id);
    expect(first).toMatchObject({ outcome: 'requested', row: { status: 'running' } });
    const requestedAt = (first as { row: JobRow }).row.cancelRequestedAt;
    expect(requestedAt).toBeInstanceOf(Date);

    const second = await requestCancel(t.db, tenantId, row.id);
    expect(second).toMatchObject({
      outcome: 'requested',
      row: { status: 'running', cancelRequestedAt: requestedAt },
    });
    const events = (await listJobEvents(t.db, tenantId, row.id)).map((e) => e.type);
    expect(events).toEqual(['queued', 'running', 'cancel_requested']);
  });

  it('leaves a finished job alone', async () => {
    const tenantId = await tenant('cancel-terminal');
    const { row } = await insertJob(t.db, newJob(tenantId));
    const started = await startAttempt(t.db, row.id, 0);
    if (started.kind !== 'run') throw new Error('expected to run');
    await completeAttempt(t.db, { id: row.id, fence: started.row.fence, result: { ok: true } });
    const outcome = await requestCancel(t.db, tenantId, row.id);
    expect(outcome).toMatchObject({
      outcome: 'terminal',
      row: { status: 'succeeded', cancelRequestedAt: null },
    });
  });

  it("answers not_found for an unknown id and for another tenant's job", async () => {
    const tenantId = await tenant('cancel-missing');
    const other = await tenant('cancel-other');
    const { row } = await insertJob(t.db, newJob(other));
    expect(await requestCancel(t.db, tenantId, randomUUID())).toEqual({ outcome: 'not_found' });
    expect(await requestCancel(t.db, tenantId, row.id)).toEqual({ outcome: 'not_found' });
    expect((await rowOf(row.id)).status).toBe('queued');
  });
});

describe('requeueJob', () => {
  it('starts a failed job on a new generation with a fresh attempt budget', async () => {
    const tenantId = await tenant('requeue');
    const { row } = await insertJob(t.db, newJob(tenantId, { maxAttempts: 1 }));
    const started = await startAttempt(t.db, row.id, 0);
    if (started.kind !== 'run') throw new Error('expected to run');
    await failAttempt(t.db, { id: row.id, fence: 1, error: { code: 'boom', message: 'no' }, retryAt: null });

    const outcome = await requeueJob(t.db, tenantId, row.id);
    expect(outcome).toMatchObject({
      outcome: 'queued',
      row: {
        status: 'queued',
        generation: 1,
        attempts: 0,
        progress: 0,
        error: null,
        result: null,
        startedAt: null,
        finishedAt: null,
        cancelRequestedAt: null,
        fence: 1,
      },
    });
    // The old generation's message is stale; the new one runs.
    expect(await startAttempt(t.db, row.id, 0)).toEqual({ kind: 'skip', reason: 'stale_generation' });
    expect(await startAttempt(t.db, row.id, 1)).toMatchObject({
      kind: 'run',
      row: { attempts: 1, fence: 2 },
    });
    expect((await listJobEvents(t.db, tenantId, row.id)).map((e) => e.type)).toEqual([
      'queued',
      'running',
      'failed',
      'queued',
      'running',
    ]);
  });

  it('requeues a canceled job', async () => {
    const tenantId = await tenant('requeue-canceled');
    const { row } = await insertJob(t.db, newJob(tenantId));
    await requestCancel(t.db, tenantId, row.id);
    expect(await requeueJob(t.db, tenantId, row.id)).toMatchObject({
      outcome: 'queued',
      row: { generation: 1 },
    });
  });

  it('refuses a job that is not failed or canceled, and hides other tenants’ jobs', async () => {
    const tenantId = await tenant('requeue-invalid');
    const other = await tenant('requeue-other');
    const { row } = await insertJob(t.db, newJob(tenantId, { id: uuidv7() }));
    expect(await requeueJob(t.db, tenantId, row.id)).toMatchObject({
      outcome: 'invalid_state',
      row: { status: 'queued', generation: 0 },
    });
    expect(await requeueJob(t.db, other, row.id)).toEqual({ outcome: 'not_found' });
    expect(await requeueJob(t.db, tenantId, randomUUID())).toEqual({ outcome: 'not_found' });
  });
});
