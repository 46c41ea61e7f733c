import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { checkInvariants, createAnswerRecorder, logSummary } from '../helpers/invariants';
import { usePrivateRedisHarness } from '../helpers/private-redis-harness';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess } from '../helpers/worker-process';

/**
 * A manual retry sent while Redis is down, on a private redis-server: the requeue (new generation) commits
 * in Postgres and the API answers 202 at once; nothing can run until Redis is back. Redis then returns
 * empty (the reconciler enqueues the new generation) or with its data, where BullMQ still holds the
 * finished job of the old generation under the same id (the reconciler must replace it, not leave it).
 */
describe('retry while Redis is down', () => {
  const env = usePrivateRedisHarness();
  const OUTAGE_MS = 6_000;

  for (const keepData of [true, false]) {
    it(`answers 202, keeps the new generation queued, and runs it once Redis is back ${keepData ? 'with its data' : 'empty'}`, async () => {
      const [h, redis] = [env.harness(), env.redis()];
      const worker = await startWorkerProcess(h, 'worker', {}, 60_000);
      env.track(worker);
      // Fails at once on every run (no backoff): each generation ends `failed` after exactly one run.
      const body = { type: 'noop', payload: { fail: 'unrecoverable', echo: 'retry-me' } };
      const { res, job } = await h.submit(body);
      expect(res.status, await res.clone().text()).toBe(202);
      const first = await h.waitForStatus(job.id, ['failed'], 30_000);
      expect(first.error?.code).toBe('noop_unrecoverable');
      const before = await h.row(job.id);
      // What BullMQ holds under the job's id before the outage: the finished run of generation 0.
      const heldBefore = await waitFor(
        'BullMQ to record the finished run',
        async () => {
          const held = (await h.producer.inspect(before.queue, [job.id])).get(job.id);
          return held?.finished ? held : undefined;
        },
        10_000,
      );
      expect(heldBefore).toEqual({ generation: before.generation, finished: true });

      await redis.stop({ keepData });
      const downAt = Date.now();
      const answers = createAnswerRecorder();
      const retriedAt = Date.now();
      const retry = await h.request('POST', `/v1/jobs/${job.id}/retry`);
      answers.record(retry, retriedAt);
      expect(retry.status, await retry.clone().text()).toBe(202);
      expect(((await retry.json()) as { status: string }).status).toBe('queued');
      const requeued = await h.row(job.id);
      expect(requeued.status).toBe('queued');
      expect(requeued.generation).toBe(before.generation + 1);

      // Several reconciler passes' worth of outage (grace 3 s, interval 1 s): nothing can run it meanwhile.
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
      expect((await h.row(job.id)).status).toBe('queued');
      const status = await h.request('GET', `/v1/jobs/${job.id}`);
      answers.record(status);
      expect(((await status.json()) as { status: string }).status).toBe('queued');

      const backAt = Date.now();
      await redis.start();
      const rerun = await waitFor(
        'the new generation to run and fail again',
        async () => {
          const row = await h.row(job.id);
          return row.status === 'failed' && row.generation === requeued.generation ? row : undefined;
        },
        60_000,
        100,
      );
      const report = await checkInvariants(h, [job.id], { answers, since: backAt });
      const events = await h.events(job.id);
      const runsAfterRetry = events.filter((e) => e.type === 'running' && Date.parse(e.at) >= retriedAt);
      const heldAfter = (await h.producer.inspect(before.queue, [job.id])).get(job.id);
      const recoveryMs = rerun.finishedAt!.getTime() - backAt;
      logSummary(`retry-redis-down-${keepData ? 'kept' : 'empty'}`, report, {
        outageMs: backAt - downAt,
        retryAnswerMs: answers.answers[0]!.ms,
        rerunRecoveryMs: recoveryMs,
        runsAfterRetry: runsAfterRetry.length,
      });

      expect(report.bad5xx).toBe(0);
      expect(report.unavailable).toBe(0);
      expect(report.slowestMs).toBeLessThan(3_000);
      expect(report.lost).toBe(0);
      expect(report.backwards).toBe(0);
      // One run per generation, not a duplicate: exactly one run after the retry.
      expect(report.extraRuns).toBe(1);
      expect(runsAfterRetry).toHaveLength(1);
      expect(Date.parse(runsAfterRetry[0]!.at)).toBeGreaterThanOrEqual(backAt);
      expect(events.map((e) => e.type)).toEqual([
        'queued',
        'running',
        'failed',
        'queued',
        'running',
        'failed',
      ]);
      expect(rerun.attempts).toBe(1);
      expect(rerun.error).toMatchObject({ code: 'noop_unrecoverable' });
      // The old generation's BullMQ job was replaced by the new one's, which ran.
      expect(heldAfter).toEqual({ generation: requeued.generation, finished: true });
      // Redis back + a reconciler pass (1 s interval here) + the run: generous for a loaded 2-core machine.
      expect(recoveryMs).toBeLessThan(20_000);
      expect((await h.getJob(job.id)).status).toBe('failed');
      expect(worker.child.exitCode).toBeNull();
    });
  }
});
