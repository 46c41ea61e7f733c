import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server';

/** Invariant 1: a 202 means the job is committed in Postgres, and it runs once Redis is back. */
describe('Redis stopped during submits', () => {
  let redis: PrivateRedis;
  let h: Harness;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    h = await createHarness({ redisUrl: redis.url });
    await h.startWorker({ reconcile: { intervalMs: 300, graceMs: 500 } });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.close();
  });

  it('accepts jobs with 202 while Redis is down and runs them after it returns', async () => {
    const warmup = await h.submit({ type: 'noop', payload: {} });
    await h.waitForStatus(warmup.job.id, ['succeeded']);

    await redis.stop();
    const accepted = [];
    for (let i = 0; i < 10; i++) {
      const started = Date.now();
      const { res, job } = await h.submit({ type: 'noop', payload: { echo: i } });
      expect(res.status).toBe(202);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await h.row(job.id)).status).toBe('queued');
      accepted.push(job.id);
    }
    // Reads are served from Postgres and keep working.
    expect((await h.getJob(accepted[0]!)).status).toBe('queued');

    await redis.start();
    for (const id of accepted) {
      const done = await h.waitForStatus(id, ['succeeded'], 30_000);
      expect(done.attempts).toBe(1);
    }
  });
});
