import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJob } from '../queries/jobs';
import { createTenant } from '../queries/tenants';
import { newJob, pgErrorOf, rejectionOf } from '../test-factories';
import { createTestDatabase, type TestDatabase } from '../testing';

/**
 * The jobs_record_event trigger (migration 0001) is the last line of the forward-only state machine: these
 * tests bypass the query functions and write raw SQL, as a buggy or hand-written statement would.
 */
let t: TestDatabase;
let tenantId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  tenantId = (await createTenant(t.db, 'trigger')).id;
});

afterAll(async () => {
  await t?.drop();
});

interface Snapshot {
  status: string;
  fence: number;
  generation: number;
  events: number;
}

async function snapshot(id: string): Promise<Snapshot> {
  const rows = await t.db.execute<{ status: string; fence: number; generation: number; events: number }>(sql`
    SELECT status, fence, generation,
           (SELECT count(*)::int FROM job_events WHERE job_id = ${id}) AS events
    FROM jobs WHERE id = ${id}`);
  return rows[0]!;
}

async function eventsOf(id: string) {
  return t.db.execute<{ type: string; data: Record<string, unknown> }>(
    sql`SELECT type, data FROM job_events WHERE job_id = ${id} ORDER BY id`,
  );
}

/** A job moved through `statuses` with raw, legal updates (bumping fence on every start). */
async function jobIn(...statuses: string[]): Promise<string> {
  const { row } = await insertJob(t.db, newJob(tenantId));
  for (const status of statuses) {
    await t.db.execute(
      status === 'running'
        ? sql`UPDATE jobs SET status = 'running', fence = fence + 1, attempts = attempts + 1 WHERE id = ${row.id}`
        : sql`UPDATE jobs SET status = ${status} WHERE id = ${row.id}`,
    );
  }
  return row.id;
}

async function expectIllegal(id: string, update: SQL, from: string, to: string) {
  const before = await snapshot(id);
  const error = pgErrorOf(await rejectionOf(t.db.execute(update)));
  expect(error?.code).toBe('23514');
  expect(error?.message).toBe(`illegal job transition ${from} -> ${to} for job ${id}`);
  expect(await snapshot(id)).toEqual(before);
}

describe('jobs_record_event trigger: illegal moves raise', () => {
  it('rejects moving a succeeded job back to running', async () => {
    const id = await jobIn('running', 'succeeded');
    await expectIllegal(id, sql`UPDATE jobs SET status = 'running' WHERE id = ${id}`, 'succeeded', 'running');
    await expectIllegal(
      id,
      sql`UPDATE jobs SET status = 'running', fence = fence + 1 WHERE id = ${id}`,
      'succeeded',
      'running',
    );
  });

  it('rejects moving a succeeded job back to queued, even with a new generation', async () => {
    const id = await jobIn('running', 'succeeded');
    await expectIllegal(id, sql`UPDATE jobs SET status = 'queued' WHERE id = ${id}`, 'succeeded', 'queued');
    await expectIllegal(
      id,
      sql`UPDATE jobs SET status = 'queued', generation = generation + 1 WHERE id = ${id}`,
      'succeeded',
      'queued',
    );
  });

  it('rejects requeueing a failed or canceled job without a generation bump', async () => {
    const failed = await jobIn('running', 'failed');
    await expectIllegal(
      failed,
      sql`UPDATE jobs SET status = 'queued' WHERE id = ${failed}`,
      'failed',
      'queued',
    );
    const canceled = await jobIn('canceled');
    await expectIllegal(
      canceled,
      sql`UPDATE jobs SET status = 'queued' WHERE id = ${canceled}`,
      'canceled',
      'queued',
    );
  });

  it.each([
    [[], 'retrying'],
    [['running', 'retrying'], 'queued'],
    [['running', 'failed'], 'running'],
    [['canceled'], 'running'],
    [['running', 'succeeded'], 'failed'],
    [['running', 'failed'], 'canceled'],
  ] as const)('rejects %j -> %s', async (path, to) => {
    const id = await jobIn(...path);
    const from = path.at(-1) ?? 'queued';
    await expectIllegal(id, sql`UPDATE jobs SET status = ${to} WHERE id = ${id}`, from, to);
  });

  it('rolls back the whole statement when one row of many is illegal', async () => {
    const legal = await jobIn();
    const illegal = await jobIn('running', 'succeeded');
    const before = await snapshot(legal);
    const error = pgErrorOf(
      await rejectionOf(
        t.db.execute(sql`UPDATE jobs SET status = 'canceled' WHERE id IN (${legal}, ${illegal})`),
      ),
    );
    expect(error?.code).toBe('23514');
    expect(await snapshot(legal)).toEqual(before);
  });
});

describe('jobs_record_event trigger: legal moves are recorded', () => {
  it('writes a queued event on insert', async () => {
    const id = await jobIn();
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['queued']);
    expect(events[0]!.data).toMatchObject({ maxAttempts: 3 });
  });

  it.each([
    [[], 'running'],
    [[], 'succeeded'],
    [[], 'failed'],
    [[], 'canceled'],
    [['running'], 'retrying'],
    [['running'], 'succeeded'],
    [['running'], 'failed'],
    [['running'], 'canceled'],
    [['running', 'retrying'], 'running'],
    [['running', 'retrying'], 'succeeded'],
    [['running', 'retrying'], 'failed'],
    [['running', 'retrying'], 'canceled'],
  ] as const)('writes exactly one event for %j -> %s', async (path, to) => {
    const id = await jobIn(...path);
    const from = path.at(-1) ?? 'queued';
    const before = await snapshot(id);
    await t.db.execute(
      to === 'running'
        ? sql`UPDATE jobs SET status = 'running', fence = fence + 1, attempts = attempts + 1 WHERE id = ${id}`
        : sql`UPDATE jobs SET status = ${to} WHERE id = ${id}`,
    );
    const after = await snapshot(id);
    expect(after.status).toBe(to);
    expect(after.events).toBe(before.events + 1);
    const last = (await eventsOf(id)).at(-1)!;
    expect(last.type).toBe(to);
    expect(last.data.from).toBe(from);
  });

  it('writes one event for a restart (running -> running with a new fence)', async () => {
    const id = await jobIn('running');
    const before = await snapshot(id);
    await t.db.execute(sql`UPDATE jobs SET fence = fence + 1, attempts = attempts + 1 WHERE id = ${id}`);
    expect((await snapshot(id)).events).toBe(before.events + 1);
    expect((await eventsOf(id)).at(-1)).toEqual({ type: 'running', data: { from: 'running', attempt: 2 } });
  });

  it.each([['failed'], ['canceled']])(
    'writes one event for requeueing a %s job with a new generation',
    async (end) => {
      const id = await jobIn(...(end === 'failed' ? ['running', 'failed'] : ['canceled']));
      const before = await snapshot(id);
      await t.db.execute(
        sql`UPDATE jobs SET status = 'queued', generation = generation + 1, attempts = 0 WHERE id = ${id}`,
      );
      const after = await snapshot(id);
      expect(after).toMatchObject({ status: 'queued', generation: before.generation + 1 });
      expect(after.events).toBe(before.events + 1);
      const last = (await eventsOf(id)).at(-1)!;
      expect(last.type).toBe('queued');
      expect(last.data).toMatchObject({ from: end });
      expect(last.data).not.toHaveProperty('attempt');
    },
  );

  it('writes one cancel_requested event when a cancel is first asked for, and none when asked again', async () => {
    const id = await jobIn('running');
    const before = await snapshot(id);
    await t.db.execute(sql`UPDATE jobs SET cancel_requested_at = now() WHERE id = ${id}`);
    await t.db.execute(sql`UPDATE jobs SET cancel_requested_at = now() WHERE id = ${id}`);
    expect((await snapshot(id)).events).toBe(before.events + 1);
    expect((await eventsOf(id)).at(-1)).toEqual({ type: 'cancel_requested', data: { attempt: 1 } });
  });

  it('writes no event for a progress-only update', async () => {
    const id = await jobIn('running');
    const before = await snapshot(id);
    await t.db.execute(sql`UPDATE jobs SET progress = 50, updated_at = now() WHERE id = ${id}`);
    await t.db.execute(sql`UPDATE jobs SET progress = 75 WHERE id = ${id}`);
    expect(await snapshot(id)).toEqual(before);
  });

  it('writes no event for an update that keeps status and fence', async () => {
    const id = await jobIn('running', 'succeeded');
    const before = await snapshot(id);
    await t.db.execute(sql`UPDATE jobs SET status = 'succeeded', result = '{"ok":true}' WHERE id = ${id}`);
    expect(await snapshot(id)).toEqual(before);
  });
});
