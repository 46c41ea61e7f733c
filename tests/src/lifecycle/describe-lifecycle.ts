import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

/**
 * The job state machine end to end: API → Postgres → BullMQ → worker → Postgres, read back over the API.
 * One set of scenarios for every Redis deployment: `makeHarness` decides what the harness connects to
 * (the shared single Redis in lifecycle.test.ts, a private Redis Cluster in cluster/lifecycle-cluster.test.ts).
 * The harness gets one worker runtime; `more` adds the caller's own tests on the same harness (`harness()`).
 */
export function describeLifecycle(
  name: string,
  makeHarness: () => Promise<Harness>,
  more?: (harness: () => Harness) => void,
): void {
  describe(name, () => {
    let h: Harness;

    beforeAll(async () => {
      h = await makeHarness();
      await h.startWorker();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('runs a noop job to succeeded and records the timeline in order', async () => {
      const { res, job } = await h.submit({ type: 'noop', payload: { echo: { hello: 'world' } } });
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
      expect(job.status).toBe('queued');
      const done = await h.waitForStatus(job.id, ['succeeded']);
      expect(done).toMatchObject({
        attempts: 1,
        progress: 100,
        result: { echo: { hello: 'world' } },
        error: null,
      });
      expect(done.startedAt).not.toBeNull();
      expect(done.finishedAt).not.toBeNull();
      const events = await h.events(job.id);
      expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'succeeded']);
    });

    it('retries a failed attempt with backoff and then succeeds', async () => {
      const { job } = await h.submit({ type: 'noop', payload: { fail: 'once' } });
      const done = await h.waitForStatus(job.id, ['succeeded']);
      expect(done.attempts).toBe(2);
      const events = await h.events(job.id);
      expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'retrying', 'running', 'succeeded']);
      const retrying = events[2]!;
      expect(retrying.data.error).toMatchObject({ code: 'noop_failed' });
      // Equal-jitter backoff: the second start comes at least half the 1 s base delay later.
      expect(new Date(events[3]!.at).getTime() - new Date(retrying.at).getTime()).toBeGreaterThanOrEqual(450);
    });

    it('fails for good after maxAttempts attempts', async () => {
      const { job } = await h.submit({
        type: 'noop',
        payload: { fail: 'always' },
        options: { maxAttempts: 2 },
      });
      const done = await h.waitForStatus(job.id, ['failed']);
      expect(done).toMatchObject({ attempts: 2, maxAttempts: 2, error: { code: 'noop_failed' } });
    });

    it('fails at once, without retrying, on an unrecoverable error', async () => {
      const { job } = await h.submit({
        type: 'noop',
        payload: { fail: 'unrecoverable' },
        options: { maxAttempts: 5 },
      });
      const done = await h.waitForStatus(job.id, ['failed']);
      expect(done).toMatchObject({ attempts: 1, error: { code: 'noop_unrecoverable' } });
    });

    it('stops an attempt at its timeout through the AbortSignal and retries it', async () => {
      const { job } = await h.submit({
        type: 'noop',
        payload: { sleepMs: 5_000 },
        options: { timeout: 300, maxAttempts: 1 },
      });
      const done = await h.waitForStatus(job.id, ['failed'], 10_000);
      expect(done.error).toMatchObject({ code: 'timeout' });
      expect(new Date(done.finishedAt!).getTime() - new Date(done.startedAt!).getTime()).toBeLessThan(2_000);
    });

    it('records progress while the job runs', async () => {
      const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 1_500 } });
      const halfway = await waitFor('progress 50', async () => {
        const j = await h.getJob(job.id);
        return j.progress === 50 && j.status === 'running' ? j : undefined;
      });
      expect(halfway.progress).toBe(50);
      await h.waitForStatus(job.id, ['succeeded']);
    });

    it('holds a delayed job until its time and then runs it', async () => {
      const { job } = await h.submit({ type: 'noop', payload: {}, options: { delay: 1_500 } });
      expect(job.status).toBe('queued');
      const runAt = new Date(job.runAt).getTime();
      expect(runAt - new Date(job.createdAt).getTime()).toBeGreaterThanOrEqual(1_400);
      const done = await h.waitForStatus(job.id, ['succeeded']);
      expect(new Date(done.startedAt!).getTime()).toBeGreaterThanOrEqual(runAt);
    });

    it('cancels a queued job before it runs', async () => {
      const { job } = await h.submit({ type: 'noop', payload: {}, options: { delay: 60_000 } });
      const res = await h.request('POST', `/v1/jobs/${job.id}/cancel`);
      expect(res.status).toBe(202);
      expect(((await res.json()) as { status: string }).status).toBe('canceled');
      expect(await h.producer.snapshot('default', job.id)).toBeNull();
      const again = await h.request('POST', `/v1/jobs/${job.id}/cancel`);
      expect(again.status).toBe(409);
    });

    it('stops a running job when it is canceled, through the worker that holds it', async () => {
      const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 20_000 } });
      await h.waitForStatus(job.id, ['running']);
      const requestedAt = Date.now();
      const res = await h.request('POST', `/v1/jobs/${job.id}/cancel`);
      expect(res.status).toBe(202);
      const done = await h.waitForStatus(job.id, ['canceled'], 5_000);
      expect(Date.now() - requestedAt).toBeLessThan(3_000);
      expect(done.attempts).toBe(1);
      const types = (await h.events(job.id)).map((e) => e.type);
      expect(types).toEqual(['queued', 'running', 'cancel_requested', 'canceled']);
    });

    it('retries a failed job with a fresh attempt budget', async () => {
      const { job } = await h.submit({ type: 'noop', payload: { fail: 'unrecoverable' } });
      await h.waitForStatus(job.id, ['failed']);
      const res = await h.request('POST', `/v1/jobs/${job.id}/retry`);
      expect(res.status).toBe(202);
      expect((await res.json()) as { status: string; attempts: number }).toMatchObject({
        status: 'queued',
        attempts: 0,
      });
      const again = await h.waitForStatus(job.id, ['failed']);
      expect(again.attempts).toBe(1);
      const types = (await h.events(job.id)).map((e) => e.type);
      expect(types).toEqual(['queued', 'running', 'failed', 'queued', 'running', 'failed']);
      const notFailed = await h.request(
        'POST',
        `/v1/jobs/${(await h.submit({ type: 'noop', payload: { sleepMs: 3_000 } })).job.id}/retry`,
      );
      expect(notFailed.status).toBe(409);
    });

    more?.(() => h);
  });
}
