import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { checkInvariants, createAnswerRecorder, logSummary } from '../helpers/invariants';
import { usePrivateRedisHarness } from '../helpers/private-redis-harness';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess } from '../helpers/worker-process';

/**
 * Cancels sent while Redis is down, on a private redis-server: the decision lives in Postgres, so the API
 * answers at once, a queued or delayed job BullMQ still holds is skipped when taken, and a running job is
 * stopped by the worker's Postgres poll (the pub/sub message cannot be sent). Redis then comes back with
 * its data (the canceled jobs are still in BullMQ) or empty (the reconciler must not bring them back).
 */
describe('cancel while Redis is down', () => {
  const env = usePrivateRedisHarness();
  const CANCEL_POLL_MS = 1_000;

  const submitOk = async (body: unknown) => {
    const { res, job } = await env.harness().submit(body);
    expect(res.status, await res.clone().text()).toBe(202);
    return job.id;
  };

  for (const keepData of [true, false]) {
    it(`stops the running job, never runs the canceled ones, runs the rest (Redis back ${keepData ? 'with its data' : 'empty'})`, async () => {
      const [h, redis] = [env.harness(), env.redis()];
      // One job at a time on the default queue: the long job holds the slot, so the others wait in BullMQ.
      const worker = await startWorkerProcess(
        h,
        'worker',
        { WORKER_CONCURRENCY_DEFAULT: '1', WORKER_CANCEL_POLL_MS: String(CANCEL_POLL_MS) },
        60_000,
      );
      env.track(worker);
      // 60 s: its progress write (which would also see the cancel) comes only after 30 s.
      const long = await submitOk({ type: 'noop', payload: { sleepMs: 60_000, echo: 'long' } });
      await waitFor('the long job to run', async () => (await h.row(long)).status === 'running', 30_000);
      await worker.waitForLine(new RegExp(`${long}.*job started`));
      const queued = [];
      for (let i = 0; i < 4; i++) queued.push(await submitOk({ type: 'noop', payload: { echo: `q${i}` } }));
      // Due while Redis is down: promoted and taken as soon as it returns, unless canceled.
      const runAt = new Date(Date.now() + 4_000).toISOString();
      const delayed = [];
      for (let i = 0; i < 4; i++)
        delayed.push(await submitOk({ type: 'noop', payload: { echo: `d${i}` }, options: { runAt } }));
      const toCancel = [long, ...queued.slice(0, 3), ...delayed.slice(0, 3)];
      const controls = [queued[3]!, delayed[3]!];

      expect((await h.getJob(long)).status).toBe('running');
      await redis.stop({ keepData });
      const downAt = Date.now();
      const answers = createAnswerRecorder();
      const canceledAt = new Map<string, number>();
      for (const id of toCancel) {
        const startedAt = Date.now();
        const res = await h.request('POST', `/v1/jobs/${id}/cancel`);
        answers.record(res, startedAt);
        expect([202, 503], await res.clone().text()).toContain(res.status);
        if (res.status === 503) expect(res.headers.get('retry-after')).toBeTruthy();
        canceledAt.set(id, Date.now());
      }
      // Postgres holds the decision at once: queued and delayed ones are canceled, the running one asked to stop.
      for (const id of toCancel.slice(1)) expect((await h.row(id)).status).toBe('canceled');
      const longRow = await h.row(long);
      expect(longRow.cancelRequestedAt).not.toBeNull();

      // Redis is still down: only the worker's Postgres poll can stop the long job.
      const stopped = await waitFor(
        'the running job to be canceled through the Postgres poll',
        async () => {
          const row = await h.row(long);
          return row.status === 'canceled' ? row : undefined;
        },
        15_000,
        50,
      );
      const stopMs = stopped.finishedAt!.getTime() - canceledAt.get(long)!;
      expect(Date.now() - downAt).toBeLessThan(15_000);
      await sleep(Math.max(0, 8_000 - (Date.now() - downAt)));
      const backAt = Date.now();
      await redis.start();
      // The read (filled into the Redis read cache as `running` before the outage) shows the outcome.
      expect((await h.getJob(long)).status).toBe('canceled');
      expect((await h.getJob(queued[0]!)).status).toBe('canceled');

      for (const id of controls) await h.waitForStatus(id, ['succeeded'], 60_000);
      if (keepData) {
        // BullMQ still held the queued and delayed ones: each was taken and skipped, not run.
        await waitFor(
          'the worker to take and skip every canceled job BullMQ held',
          () =>
            toCancel
              .slice(1)
              .every((id) => worker.lines.some((l) => l.includes(id) && l.includes('job not run'))),
          30_000,
        );
      } else {
        // Two reconciler passes (grace 3 s, interval 1 s in the worker process) after Redis came back.
        await sleep(6_000);
      }
      const report = await checkInvariants(h, [...toCancel, ...controls], { answers, since: backAt });
      const ranAfterCancel = [];
      for (const id of toCancel) {
        const events = await h.events(id);
        if (events.some((e) => e.type === 'running' && Date.parse(e.at) > canceledAt.get(id)!))
          ranAfterCancel.push(id);
      }
      logSummary(`cancel-redis-down-${keepData ? 'kept' : 'empty'}`, report, {
        cancels: toCancel.length,
        cancelAnswers: answers.answers.map((a) => `${a.status}:${a.ms}ms`),
        unavailable: report.unavailable,
        slowestAnswerMs: report.slowestMs,
        runningJobStoppedAfterMs: stopMs,
        ranAfterCancel: ranAfterCancel.length,
        skippedByWorker: toCancel.filter((id) =>
          worker.lines.some((l) => l.includes(id) && l.includes('job not run')),
        ).length,
      });
      expect(report.bad5xx).toBe(0);
      expect(report.slowestMs).toBeLessThan(3_000);
      expect(stopMs).toBeLessThan(CANCEL_POLL_MS + 5_000);
      expect(ranAfterCancel).toEqual([]);
      expect(report.lost).toBe(0);
      expect(report.backwards).toBe(0);
      expect(report.duplicates).toBe(0);
      expect(report.byStatus).toEqual({ canceled: 7, succeeded: 2 });
      expect((await h.events(long)).map((e) => e.type)).toEqual([
        'queued',
        'running',
        'cancel_requested',
        'canceled',
      ]);
      for (const id of toCancel.slice(1))
        expect((await h.events(id)).map((e) => e.type)).toEqual(['queued', 'canceled']);
      expect(worker.child.exitCode).toBeNull();
    });
  }
});
