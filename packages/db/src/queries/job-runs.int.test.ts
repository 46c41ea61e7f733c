import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../schema/index';
import { newJob } from '../test-factories';
import { createTestDatabase, type TestDatabase } from '../testing';
import { listJobEvents } from './job-events';
import {
  cancelAttempt,
  cancelRequestedAmong,
  completeAttempt,
  EXHAUSTED_ERROR,
  failAttempt,
  recordProgress,
  startAttempt,
} from './job-runs';
import { insertJob, requestCancel } from './jobs';
import { createTenant } from './tenants';

let t: TestDatabase;
let tenantId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  tenantId = (await createTenant(t.db, 'job-runs')).id;
});

afterAll(async () => {
  await t?.drop();
});

async function queuedJob(overrides: Parameters<typeof newJob>[1] = {}) {
  return (await insertJob(t.db, newJob(tenantId, overrides))).row;
}

async function rowOf(id: string) {
  const [row] = await t.db.select().from(jobs).where(eq(jobs.id, id));
  return row!;
}

async function eventTypes(id: string) {
  return (await listJobEvents(t.db, tenantId, id)).map((event) => event.type);
}

async function run(id: string, generation = 0) {
  const outcome = await startAttempt(t.db, id, generation);
  if (outcome.kind !== 'run') throw new Error(`expected the attempt to run, got ${outcome.reason}`);
  return outcome.row;
}

describe('fencing: a stale attempt cannot overwrite a newer one', () => {
  it('ignores the outcome of an attempt restarted elsewhere and keeps the timeline', async () => {
    const job = await queuedJob();

    const first = await run(job.id);
    expect(first).toMatchObject({ status: 'running', fence: 1, attempts: 1 });

    // The first worker stalls; BullMQ hands the job to another worker, which starts attempt 2.
    const second = await run(job.id);
    expect(second).toMatchObject({ status: 'running', fence: 2, attempts: 2 });

    const beforeStale = await rowOf(job.id);
    expect(await completeAttempt(t.db, { id: job.id, fence: 1, result: { from: 'stale' } })).toBe(false);
    expect(
      await failAttempt(t.db, {
        id: job.id,
        fence: 1,
        error: { code: 'boom', message: 'stale failure' },
        retryAt: null,
      }),
    ).toBe(false);
    expect(await recordProgress(t.db, { id: job.id, fence: 1, progress: 99 })).toEqual({
      applied: false,
      cancelRequested: false,
    });
    expect(await rowOf(job.id)).toEqual(beforeStale);

    expect(await completeAttempt(t.db, { id: job.id, fence: 2, result: { from: 'current' } })).toBe(true);
    const done = await rowOf(job.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { from: 'current' }, progress: 100, fence: 2 });
    expect(done.finishedAt).toBeInstanceOf(Date);

    // The stalled worker wakes up after the job finished: none of its writes land.
    expect(
      await failAttempt(t.db, {
        id: job.id,
        fence: 1,
        error: { code: 'boom', message: 'late' },
        retryAt: new Date(),
      }),
    ).toBe(false);
    expect(await completeAttempt(t.db, { id: job.id, fence: 1, result: { from: 'late' } })).toBe(false);
    expect(await completeAttempt(t.db, { id: job.id, fence: 2, result: { from: 'twice' } })).toBe(false);
    expect(await rowOf(job.id)).toEqual(done);

    expect(await eventTypes(job.id)).toEqual(['queued', 'running', 'running', 'succeeded']);
  });

  it('records the attempt number of each start in the timeline', async () => {
    const job = await queuedJob();
    await run(job.id);
    await run(job.id);
    const events = await listJobEvents(t.db, tenantId, job.id);
    expect(events.map((e) => e.data)).toEqual([
      expect.objectContaining({ maxAttempts: 3 }),
      { from: 'queued', attempt: 1 },
      { from: 'running', attempt: 2 },
    ]);
  });
});

describe('startAttempt', () => {
  it('skips a job of another generation without touching it', async () => {
    const job = await queuedJob();
    expect(await startAttempt(t.db, job.id, 1)).toEqual({ kind: 'skip', reason: 'stale_generation' });
    expect(await rowOf(job.id)).toEqual(job);
    expect(await eventTypes(job.id)).toEqual(['queued']);
  });

  it('skips a job that does not exist', async () => {
    expect(await startAttempt(t.db, randomUUID(), 0)).toEqual({ kind: 'skip', reason: 'missing' });
  });

  it('skips a finished job', async () => {
    const job = await queuedJob();
    const { fence } = await run(job.id);
    await completeAttempt(t.db, { id: job.id, fence, result: null });
    expect(await startAttempt(t.db, job.id, 0)).toEqual({ kind: 'skip', reason: 'terminal' });
    expect((await rowOf(job.id)).attempts).toBe(1);
  });

  it('fails a job whose last attempt died while running, with code attempts_exhausted', async () => {
    const job = await queuedJob({ maxAttempts: 2 });
    await run(job.id);
    await run(job.id);
    // The worker running attempt 2 died; the row is still `running` when BullMQ offers the job again.
    expect(await startAttempt(t.db, job.id, 0)).toMatchObject({
      kind: 'skip',
      reason: 'exhausted',
      row: { status: 'failed' },
    });
    const row = await rowOf(job.id);
    expect(row).toMatchObject({ status: 'failed', attempts: 2, fence: 2, error: EXHAUSTED_ERROR });
    expect(row.error?.code).toBe('attempts_exhausted');
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(await eventTypes(job.id)).toEqual(['queued', 'running', 'running', 'failed']);
  });

  it('cancels a running job whose cancel was requested instead of restarting it', async () => {
    const job = await queuedJob();
    await run(job.id);
    expect((await requestCancel(t.db, tenantId, job.id)).outcome).toBe('requested');
    expect(await startAttempt(t.db, job.id, 0)).toMatchObject({
      kind: 'skip',
      reason: 'canceled',
      row: { status: 'canceled' },
    });
    const row = await rowOf(job.id);
    expect(row).toMatchObject({ status: 'canceled', attempts: 1, fence: 1 });
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(await eventTypes(job.id)).toEqual(['queued', 'running', 'cancel_requested', 'canceled']);
  });

  it('runs a retrying job again with a new fence', async () => {
    const job = await queuedJob();
    const first = await run(job.id);
    const retryAt = new Date(Date.now() + 1_000);
    expect(
      await failAttempt(t.db, {
        id: job.id,
        fence: first.fence,
        error: { code: 'flaky', message: 'try again' },
        retryAt,
      }),
    ).toBe(true);
    expect(await rowOf(job.id)).toMatchObject({
      status: 'retrying',
      runAt: retryAt,
      error: { code: 'flaky' },
    });
    const second = await run(job.id);
    expect(second).toMatchObject({ status: 'running', fence: 2, attempts: 2, progress: 0 });
    expect(
      await failAttempt(t.db, {
        id: job.id,
        fence: 2,
        error: { code: 'flaky', message: 'gave up' },
        retryAt: null,
      }),
    ).toBe(true);
    const row = await rowOf(job.id);
    expect(row).toMatchObject({ status: 'failed', error: { code: 'flaky', message: 'gave up' } });
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(await eventTypes(job.id)).toEqual(['queued', 'running', 'retrying', 'running', 'failed']);
  });
});

describe('recordProgress', () => {
  it('records clamped, rounded progress and reports a cancel request', async () => {
    const job = await queuedJob();
    const { fence } = await run(job.id);

    expect(await recordProgress(t.db, { id: job.id, fence, progress: 41.6 })).toEqual({
      applied: true,
      cancelRequested: false,
    });
    expect((await rowOf(job.id)).progress).toBe(42);

    expect((await requestCancel(t.db, tenantId, job.id)).outcome).toBe('requested');
    expect(await recordProgress(t.db, { id: job.id, fence, progress: 250 })).toEqual({
      applied: true,
      cancelRequested: true,
    });
    expect((await rowOf(job.id)).progress).toBe(100);
    expect(await recordProgress(t.db, { id: job.id, fence, progress: -5 })).toMatchObject({ applied: true });
    expect((await rowOf(job.id)).progress).toBe(0);
  });

  it('does not apply to a job that is not running', async () => {
    const job = await queuedJob();
    expect(await recordProgress(t.db, { id: job.id, fence: 0, progress: 10 })).toEqual({
      applied: false,
      cancelRequested: false,
    });
  });
});

describe('cancelAttempt and cancelRequestedAmong', () => {
  it('cancels only a running attempt whose cancel was requested', async () => {
    const asked = await queuedJob();
    const notAsked = await queuedJob();
    const askedRun = await run(asked.id);
    const notAskedRun = await run(notAsked.id);

    expect(await cancelAttempt(t.db, { id: notAsked.id, fence: notAskedRun.fence })).toBe(false);
    await requestCancel(t.db, tenantId, asked.id);
    expect(await cancelRequestedAmong(t.db, [asked.id, notAsked.id, randomUUID()])).toEqual([asked.id]);
    expect(await cancelRequestedAmong(t.db, [])).toEqual([]);

    expect(await cancelAttempt(t.db, { id: asked.id, fence: askedRun.fence + 1 })).toBe(false);
    expect(await cancelAttempt(t.db, { id: asked.id, fence: askedRun.fence })).toBe(true);
    expect((await rowOf(asked.id)).status).toBe('canceled');
    expect((await rowOf(notAsked.id)).status).toBe('running');
    expect(await cancelRequestedAmong(t.db, [asked.id])).toEqual([]);
  });
});
