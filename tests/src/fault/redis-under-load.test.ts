import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { checkInvariants, createAnswerRecorder, logSummary } from '../helpers/invariants';
import { httpSubmit, inProcessSubmit, startLoad } from '../helpers/load';
import { freePort } from '../helpers/ports';
import { type AppProcess, startApp } from '../helpers/processes';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess } from '../helpers/worker-process';

/** Invariants 1 and 2 under load, on a private redis-server (never the shared one on 6379). */
describe('Redis faults under load', () => {
  let redis: PrivateRedis;
  let h: Harness;
  const procs: AppProcess[] = [];
  const alive = (w: AppProcess) => w.child.exitCode === null && w.child.signalCode === null;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    h = await createHarness({ redisUrl: redis.url });
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
    // Whatever a scenario did to Redis, the next one starts with it up.
    await redis.start().catch(() => undefined);
  });
  afterAll(async () => {
    await h?.close();
    await redis?.close();
  });

  const startWorkers = async (n: number) => {
    const started = await Promise.all(
      Array.from({ length: n }, (_, i) => startWorkerProcess(h, `worker-${i}`, {}, 60_000)),
    );
    procs.push(...started);
    return started;
  };

  it('restarted without persistence while jobs wait, run and sit delayed, with a schedule: every job still completes and the schedule fires again', async () => {
    const workers = await startWorkers(3);
    const answers = createAnswerRecorder();
    // A schedule lives in Postgres; its BullMQ job scheduler dies with Redis and the reconciler makes it again.
    const schedules = await h.newTenant();
    const created = await h.request('POST', '/v1/schedules', {
      key: schedules.key,
      body: { cron: '* * * * * *', template: { type: 'noop', payload: { echo: 'scheduled' } } },
    });
    expect(created.status).toBe(201);
    const scheduleId = ((await created.json()) as { id: string }).id;
    const scheduledJobs = async (after: number) => {
      const res = await h.request('GET', '/v1/jobs?limit=100', { key: schedules.key });
      const jobs = ((await res.json()) as { data: { createdAt: string; status: string }[] }).data;
      return jobs.filter((j) => Date.parse(j.createdAt) > after);
    };
    const runAt = new Date(Date.now() + 6_000);
    const delayed = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.submit({ type: 'noop', payload: { echo: `late-${i}` }, options: { runAt: runAt.toISOString() } }),
      ),
    );
    for (const { res } of delayed) answers.record(res);
    const body = (i: number) => ({ type: 'noop', payload: { sleepMs: 100 + ((i * 37) % 400), echo: i } });
    const load = startLoad(inProcessSubmit(h), answers, { total: 300, concurrency: 6, body });
    await waitFor('jobs to queue up and run', () => answers.accepted.length >= 150, 30_000, 20);
    await waitFor('the schedule to fire before the restart', async () => (await scheduledJobs(0)).length > 0);
    await redis.stop();
    await sleep(2_000);
    const backAt = Date.now();
    await redis.start();
    await load.done;
    await waitFor(
      'the schedule to fire again after the restart',
      async () => (await scheduledJobs(backAt)).some((j) => j.status === 'succeeded'),
      30_000,
    );
    expect((await h.request('DELETE', `/v1/schedules/${scheduleId}`, { key: schedules.key })).status).toBe(
      204,
    );
    const ids = [...answers.accepted, ...delayed.map((d) => d.job.id)];
    const report = await checkInvariants(h, ids, { answers, since: backAt });
    logSummary('redis-restart-empty', report, { delayed: delayed.length });
    expect(report.lost).toBe(0);
    expect(report.backwards).toBe(0);
    expect(report.bad5xx).toBe(0);
    expect(report.byStatus).toEqual({ succeeded: 320 });
    for (const { job } of delayed) {
      const row = await h.row(job.id);
      expect(row.startedAt!.getTime()).toBeGreaterThanOrEqual(runAt.getTime());
    }
    expect(workers.every(alive)).toBe(true);
  });

  it('down when the API and workers start: they come up, accept, and run everything once it starts', async () => {
    await redis.stop();
    const port = await freePort();
    const api = startApp(
      'api',
      {
        DATABASE_URL: h.db.url,
        REDIS_URL: redis.url,
        QUEUE_PREFIX: h.prefix,
        PORT: String(port),
        HOST: '127.0.0.1',
        RATE_LIMIT_POINTS: '0',
      },
      'api',
    );
    procs.push(api);
    const workers = Array.from({ length: 3 }, (_, i) =>
      startApp(
        'worker',
        {
          DATABASE_URL: h.db.url,
          REDIS_URL: redis.url,
          QUEUE_PREFIX: h.prefix,
          WORKER_LOCK_DURATION_MS: '2000',
          WORKER_STALLED_INTERVAL_MS: '1000',
          RECONCILE_INTERVAL_MS: '1000',
          RECONCILE_GRACE_MS: '3000',
          WORKER_METRICS_PORT: '0',
        },
        `worker-${i}`,
      ),
    );
    procs.push(...workers);
    await api.waitForLine(/"api listening"/, 60_000);
    const answers = createAnswerRecorder();
    const load = startLoad(httpSubmit(`http://127.0.0.1:${port}`, h.key), answers, {
      total: 100,
      concurrency: 4,
    });
    await load.done;
    expect(answers.accepted).toHaveLength(100);
    const upAt = Date.now();
    await redis.start();
    await Promise.all(workers.map((w) => w.waitForLine(/"worker started"/, 60_000)));
    const more = startLoad(httpSubmit(`http://127.0.0.1:${port}`, h.key), answers, {
      total: 100,
      concurrency: 4,
    });
    await more.done;
    const report = await checkInvariants(h, answers.accepted, { answers, since: upAt });
    logSummary('redis-down-at-start', report);
    expect(report.lost).toBe(0);
    expect(report.backwards).toBe(0);
    expect(report.bad5xx).toBe(0);
    expect(report.byStatus).toEqual({ succeeded: 200 });
    expect(workers.every(alive)).toBe(true);
  });

  it('connections killed every 500 ms for 10 s under load: workers keep consuming without a restart', async () => {
    const workers = await startWorkers(3);
    const admin = redis.client();
    const answers = createAnswerRecorder();
    const load = startLoad(inProcessSubmit(h), answers, { total: 300, concurrency: 3, pauseMs: 80 });
    let kills = 0;
    let killed = 0;
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      killed += Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal').catch(() => 0));
      kills++;
      await sleep(500);
    }
    const calmAt = Date.now();
    await load.done;
    const report = await checkInvariants(h, answers.accepted, { answers, since: calmAt });
    logSummary('redis-client-kill', report, { kills, connectionsKilled: killed });
    expect(killed).toBeGreaterThan(0);
    expect(report.lost).toBe(0);
    expect(report.backwards).toBe(0);
    expect(report.bad5xx).toBe(0);
    expect(report.byStatus).toEqual({ succeeded: answers.accepted.length });
    expect(answers.accepted.length).toBeGreaterThanOrEqual(290);
    expect(workers.every(alive)).toBe(true);
  });
});
