import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server';

/** Invariant 2: every non-terminal job reaches a worker even after Redis lost it. */
describe('Redis FLUSHALL with queued and delayed jobs', () => {
  let redis: PrivateRedis;
  let h: Harness;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    h = await createHarness({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.close();
  });

  it('still completes every job, and runs delayed ones no earlier than their runAt', async () => {
    const runAt = new Date(Date.now() + 4_000);
    const immediate = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h.submit({ type: 'noop', payload: { echo: i } })),
    );
    const delayed = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        h.submit({ type: 'noop', payload: { echo: `late-${i}` }, options: { runAt: runAt.toISOString() } }),
      ),
    );
    const all = [...immediate, ...delayed].map((s) => s.job.id);
    for (const { res } of [...immediate, ...delayed]) expect(res.status).toBe(202);
    expect(await h.producer.snapshot('default', all[0]!)).not.toBeNull();

    await redis.flushAll();
    expect(await h.producer.snapshot('default', all[0]!)).toBeNull();

    // Only now does a worker start: whatever it runs, the reconciler must have put back.
    await h.startWorker({ reconcile: { intervalMs: 300, graceMs: 500 } });
    for (const { job } of immediate) await h.waitForStatus(job.id, ['succeeded'], 15_000);
    for (const { job } of delayed) {
      const done = await h.waitForStatus(job.id, ['succeeded'], 15_000);
      expect(new Date(done.startedAt!).getTime()).toBeGreaterThanOrEqual(runAt.getTime());
      expect(done.runAt).toBe(runAt.toISOString());
    }
    for (const id of all) expect((await h.getJob(id)).attempts).toBe(1);
  });
});
