import { setTimeout as sleep } from 'node:timers/promises';
import { findJobsByIds, replaceSchedule } from '@conveyor/db';
import { createScheduleMirror } from '@conveyor/queue';
import { type JobView, type ScheduleView, uuidv7 } from '@conveyor/shared';
import type { WorkerRuntime } from '@conveyor/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server';
import { waitFor } from '../helpers/wait';

/**
 * Schedules end to end: the real API app and a real worker (which serves the `schedules` queue and runs the
 * reconciler) on real Postgres and Redis. A per-second cron keeps the waits short.
 */

const EVERY_SECOND = '* * * * * *';

async function newScheduler(h: Harness) {
  const { key, tenantId } = await h.newTenant();
  const call = (method: string, path: string, body?: unknown) =>
    h.request(method, path, { key, ...(body === undefined ? {} : { body }) });
  return {
    key,
    tenantId,
    async create(body: Record<string, unknown>): Promise<ScheduleView> {
      const res = await call('POST', '/v1/schedules', body);
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as ScheduleView;
    },
    async get(id: string): Promise<ScheduleView> {
      return (await (await call('GET', `/v1/schedules/${id}`)).json()) as ScheduleView;
    },
    delete: (id: string) => call('DELETE', `/v1/schedules/${id}`),
    /** Every job of this tenant, oldest first (each test has a tenant of its own). */
    async jobs(): Promise<JobView[]> {
      const res = await call('GET', '/v1/jobs?limit=100');
      return ((await res.json()) as { data: JobView[] }).data.reverse();
    },
    /** The rows behind `jobs`, for what the view does not show (the firing each job was for). */
    rows: (ids: string[]) => findJobsByIds(h.db.db, tenantId, ids),
  };
}

describe('schedules', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorker();
  });
  afterAll(() => h?.close());

  it('fires every second: each firing makes one job, which runs and succeeds', async () => {
    const t = await newScheduler(h);
    const s = await t.create({ cron: EVERY_SECOND, template: { type: 'noop', payload: { echo: 'tick' } } });
    const jobs = await waitFor('three fired jobs to succeed', async () => {
      const all = await t.jobs();
      return all.filter((j) => j.status === 'succeeded').length >= 3 ? all : undefined;
    });
    for (const job of jobs) {
      expect(job).toMatchObject({ type: 'noop', scheduleId: s.id, payload: { echo: 'tick' } });
    }
    expect((await t.delete(s.id)).status).toBe(204);
    // One job per firing, each for a whole-second cron tick, made no earlier than its tick.
    const rows = await t.rows(jobs.map((j) => j.id));
    const ticks = rows.map((r) => r.scheduledFor!.getTime());
    expect(new Set(ticks).size).toBe(rows.length);
    for (const row of rows) {
      expect(row.scheduledFor!.getTime() % 1_000).toBe(0);
      expect(row.createdAt.getTime()).toBeGreaterThanOrEqual(row.scheduledFor!.getTime());
    }
  });

  it('records the last firing on the schedule', async () => {
    const t = await newScheduler(h);
    const s = await t.create({ cron: EVERY_SECOND, template: { type: 'noop' } });
    const fired = await waitFor('a firing recorded', async () => {
      const view = await t.get(s.id);
      return view.lastJobId ? view : undefined;
    });
    expect((await t.delete(s.id)).status).toBe(204);
    expect(fired.lastFiredAt).toMatch(/\.000Z$/); // a cron tick: whole seconds
    const jobs = await t.jobs();
    expect(jobs.map((j) => j.id)).toContain(fired.lastJobId);
  });

  it('with overlap "skip", never runs two jobs of the schedule at once and skips the firings in between', async () => {
    const t = await newScheduler(h);
    const s = await t.create({
      cron: EVERY_SECOND,
      overlap: 'skip',
      template: { type: 'noop', payload: { sleepMs: 2_500 } },
    });
    const started = Date.now();
    await waitFor(
      'two jobs of the slow schedule to finish',
      async () => {
        const done = (await t.jobs()).filter((j) => j.status === 'succeeded');
        return done.length >= 2;
      },
      30_000,
    );
    expect((await t.delete(s.id)).status).toBe(204);
    const elapsedS = (Date.now() - started) / 1_000;
    const jobs = await t.jobs();
    // Each job runs 2.5 s of a firing every second: without the skip there would be a job per second.
    expect(jobs.length).toBeLessThan(elapsedS * 0.7);
    // No job was created while the one before it was unfinished (queued or running).
    for (let i = 1; i < jobs.length; i++) {
      const previous = jobs[i - 1]!;
      if (!previous.finishedAt) continue;
      expect(new Date(jobs[i]!.createdAt).getTime()).toBeGreaterThanOrEqual(
        new Date(previous.finishedAt).getTime(),
      );
    }
    expect(jobs.filter((j) => j.status === 'running' || j.status === 'queued').length).toBeLessThanOrEqual(1);
  });

  it('with overlap "allow", submits at every firing even while earlier jobs still run', async () => {
    const t = await newScheduler(h);
    const s = await t.create({
      cron: EVERY_SECOND,
      overlap: 'allow',
      template: { type: 'noop', payload: { sleepMs: 3_000 } },
    });
    await waitFor(
      'two jobs of the schedule running at once',
      async () => {
        const running = (await t.jobs()).filter((j) => j.status === 'running');
        return running.length >= 2;
      },
      20_000,
    );
    expect((await t.delete(s.id)).status).toBe(204);
  });

  it('stops firing once deleted', async () => {
    const t = await newScheduler(h);
    const s = await t.create({ cron: EVERY_SECOND, template: { type: 'noop' } });
    await waitFor('a first job', async () => (await t.jobs()).length >= 1);
    expect((await t.delete(s.id)).status).toBe(204);
    const deletedAt = Date.now();
    await sleep(3_500);
    const late = (await t.jobs()).filter((j) => new Date(j.createdAt).getTime() > deletedAt);
    expect(late).toEqual([]);
    // The jobs it made stay, no longer linked to it.
    expect((await t.jobs()).every((j) => j.scheduleId === null)).toBe(true);
  });

  it('does not fire while paused, and fires again once resumed', async () => {
    const t = await newScheduler(h);
    const body = { cron: EVERY_SECOND, template: { type: 'noop' } };
    const s = await t.create({ ...body, paused: true });
    await sleep(2_500);
    expect(await t.jobs()).toEqual([]);
    const resumed = await h.request('PUT', `/v1/schedules/${s.id}`, { key: (await h.newTenant()).key, body });
    expect(resumed.status).toBe(404); // another tenant cannot resume it
    const res = await h.request('PUT', `/v1/schedules/${s.id}`, { key: t.key, body });
    expect(res.status).toBe(200);
    await waitFor('a job after resuming', async () => (await t.jobs()).length >= 1);
    expect((await t.delete(s.id)).status).toBe(204);
  });
});

describe('schedules after Redis lost everything', () => {
  let redis: PrivateRedis;
  let h: Harness;
  let worker: WorkerRuntime;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    h = await createHarness({ redisUrl: redis.url });
    worker = await h.startWorker({ reconcile: { intervalMs: 300, graceMs: 500 } });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.close();
  });

  it('comes back after FLUSHALL once the reconciler has run', async () => {
    const t = await newScheduler(h);
    const s = await t.create({ cron: EVERY_SECOND, template: { type: 'noop' } });
    await waitFor('a job before the flush', async () => (await t.jobs()).length >= 1);

    await redis.flushAll();
    const flushedAt = Date.now();
    const after = await waitFor('a job fired after the flush to succeed', async () =>
      (await t.jobs()).find(
        (j) => new Date(j.createdAt).getTime() > flushedAt + 100 && j.status === 'succeeded',
      ),
    );
    expect(after.scheduleId).toBe(s.id);
    expect((await t.delete(s.id)).status).toBe(204);
  });

  it('the reconciler re-creates a missing or outdated scheduler and removes those of deleted or paused schedules', async () => {
    const t = await newScheduler(h);
    const hourly = { cron: '0 0 * * * *', template: { type: 'noop' } };
    const kept = await t.create(hourly);
    const paused = await t.create(hourly);
    const mirror = createScheduleMirror(h.producer);
    // Redis disagrees with Postgres in every way it can: one scheduler lost, one paused behind the API's back,
    // one from an older revision, one whose schedule does not exist.
    await mirror.remove(kept.id);
    await replaceSchedule(h.db.db, t.tenantId, paused.id, {
      name: null,
      timezone: 'UTC',
      overlap: 'skip',
      ...hourly,
      paused: true,
    });
    const outdated = await t.create(hourly);
    await mirror.upsert({ id: outdated.id, cron: outdated.cron, timezone: outdated.timezone, revision: 0 });
    const orphan = uuidv7();
    await mirror.upsert({ id: orphan, cron: '0 0 * * * *', timezone: 'UTC', revision: 1 });
    await worker.reconciler!.reconcileOnce();
    const held = await mirror.list();
    expect(held.get(kept.id)).toBe(1);
    expect(held.get(outdated.id)).toBe(1);
    expect(held.has(paused.id)).toBe(false);
    expect(held.has(orphan)).toBe(false);
    for (const s of [kept, paused, outdated]) expect((await t.delete(s.id)).status).toBe(204);
  });
});
