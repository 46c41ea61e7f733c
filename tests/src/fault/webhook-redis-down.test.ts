import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookDeliveryView, WebhookSettingsView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, logSummary } from '../helpers/invariants';
import { usePrivateRedisHarness } from '../helpers/private-redis-harness';
import { waitFor } from '../helpers/wait';
import { linesFor, startWorkerProcess } from '../helpers/worker-process';
import { type Receiver, startReceiver, verifies } from '../webhooks/receiver';

/**
 * A job with a webhook finishes while Redis is down, on a private redis-server: the worker commits the
 * outcome in Postgres, its enqueue of the message fails (logged), and BullMQ cannot record the finish.
 * Once Redis is back — empty (the recovery cursor is lost too, so the scan starts its window back) or
 * with its data (the cursor kept, BullMQ still holding the job as active) — the recovery scan enqueues the
 * message and the receiver gets it exactly once, signed.
 */
describe('Redis down when a job with a webhook finishes', () => {
  const env = usePrivateRedisHarness();
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx?.close();
  });

  for (const keepData of [false, true]) {
    it(`commits the outcome and delivers its webhook exactly once after Redis is back ${keepData ? 'with its data' : 'empty'}`, async () => {
      const [h, redis] = [env.harness(), env.redis()];
      const worker = await startWorkerProcess(
        h,
        'worker',
        {
          FETCH_ALLOWLIST: '127.0.0.1',
          WEBHOOK_RETRY_BASE_MS: '300',
          WEBHOOK_RETRY_MAX_MS: '1000',
          WEBHOOK_TIMEOUT_MS: '3000',
        },
        60_000,
      );
      env.track(worker);
      const path = `/redis-down-${keepData ? 'kept' : 'empty'}`;
      const { secret } = (await (
        await h.request('GET', '/v1/webhook-settings')
      ).json()) as WebhookSettingsView;
      const { res, job } = await h.submit({
        type: 'noop',
        payload: { sleepMs: 2_000, echo: 'webhook' },
        webhook: { url: rx.url(path) },
      });
      expect(res.status, await res.clone().text()).toBe(202);
      await worker.waitForLine(new RegExp(`${job.id}.*job started`), 30_000);
      await redis.stop({ keepData });
      const downAt = Date.now();

      // Redis is still down: the outcome commits in Postgres, and the message cannot be enqueued.
      const finished = await waitFor(
        'the outcome to commit while Redis is down',
        async () => {
          const row = await h.row(job.id);
          return row.status === 'succeeded' ? row : undefined;
        },
        15_000,
        50,
      );
      expect(finished.finishedAt!.getTime()).toBeGreaterThan(downAt);
      await waitFor(
        'the worker to log the failed enqueue',
        () => linesFor(worker, job.id, 'webhook not enqueued').length > 0,
        10_000,
      );
      // Several reconciler passes' worth of outage (grace 3 s, interval 1 s): no message can leave meanwhile.
      await sleep(Math.max(0, 6_000 - (Date.now() - downAt)));
      expect(rx.at(path)).toHaveLength(0);

      const backAt = Date.now();
      await redis.start();
      const messageId = `msg_${job.id}_${finished.generation}_succeeded`;
      const [delivered] = await waitFor(
        'the recovered delivery',
        () => rx.at(path).length > 0 && rx.at(path),
        30_000,
      );
      // A few more passes: the scan, the stalled-job check and a late runner must not send it again.
      await sleep(5_000);
      const log = await waitFor('the delivery to be logged', async () => {
        const res = await h.request('GET', `/v1/jobs/${job.id}/deliveries`);
        const { data } = (await res.json()) as { data: WebhookDeliveryView[] };
        return data.length > 0 && data;
      });
      const report = await checkInvariants(h, [job.id], { since: backAt });
      const delayAfterBackMs = delivered!.at - backAt;
      logSummary(`webhook-redis-down-${keepData ? 'kept' : 'empty'}`, report, {
        outageMs: backAt - downAt,
        deliveredAfterRedisBackMs: delayAfterBackMs,
        deliveredAfterFinishMs: delivered!.at - finished.finishedAt!.getTime(),
        requests: rx.at(path).length,
      });

      expect(rx.at(path)).toHaveLength(1);
      expect(delivered!.headers['webhook-id']).toBe(messageId);
      expect(verifies(delivered!, secret)).toBe(true);
      expect(JSON.parse(delivered!.body)).toMatchObject({
        type: 'job.succeeded',
        data: { id: job.id, status: 'succeeded', result: { sleepMs: 2_000, echo: 'webhook' } },
      });
      // Sent by the recovery scan (the worker's own enqueue failed above), not by a rerun of the job.
      expect(worker.lines.some((l) => l.includes('webhook recovery enqueued messages'))).toBe(true);
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ messageId, attempt: 1, outcome: 'delivered', responseStatus: 200 });
      expect(report.lost).toBe(0);
      expect(report.backwards).toBe(0);
      expect(report.duplicates).toBe(0);
      expect(report.byStatus).toEqual({ succeeded: 1 });
      // Redis back + one reconciler pass (interval 1 s) + the POST: generous for a loaded 2-core machine.
      expect(delayAfterBackMs).toBeLessThan(15_000);
      expect(worker.child.exitCode).toBeNull();
    });
  }
});
