import { type Db, firstJobEventIdSince, scanDueWebhooks } from '@conveyor/db';
import { enqueueWebhook, type Producer } from '@conveyor/queue';
import { type Logger, webhookEventOf, webhookMessageId } from '@conveyor/shared';

export interface WebhookRecoveryOptions {
  db: Db;
  producer: Producer;
  log: Logger;
  /** How far back a process looks when it first scans, in ms (terminal events older than this are not recovered). */
  windowMs: number;
  /** Events younger than this are left to the writer's own enqueue, in ms. */
  graceMs: number;
  /** The delivery attempt budget: a message with this many logged attempts is finished. */
  maxAttempts: number;
  /** Events read per page; default 1 000. */
  pageSize?: number;
  /** Pages read per pass, so one pass stays short after a long outage; default 20. */
  maxPages?: number;
}

/**
 * Makes sure no terminal job's webhook is lost when its enqueue failed (Redis down, worker died between the
 * commit and the add): walks `job_events` in id order from a cursor and enqueues the message of every job
 * that is still in the terminal state the event names, has an endpoint, and has no settling delivery. The
 * add is idempotent (job id = message id), so messages already queued or delivered cost nothing.
 * The cursor is kept in Redis beside the reconciler's lease, so a restart or a new lease holder goes on
 * where the last pass stopped; only when Redis lost it (flush, restart without persistence) does a scan
 * begin `windowMs` back. Keeping it matters: a terminal event is looked at once, soon after its grace
 * period, so a tenant endpoint set later does not pull in messages of jobs that finished before it.
 */
export function createWebhookRecovery(options: WebhookRecoveryOptions) {
  const pageSize = options.pageSize ?? 1_000;
  const maxPages = options.maxPages ?? 20;
  const cursorKey = `${options.producer.prefix}:webhooks:recovery-cursor`;

  /** One pass; answers how many messages were (re-)enqueued. */
  async function recoverOnce(): Promise<number> {
    const stored = await options.producer.redis.get(cursorKey);
    let cursor =
      stored !== null && /^-?\d+$/.test(stored)
        ? Number(stored)
        : (await firstJobEventIdSince(options.db, new Date(Date.now() - options.windowMs))) - 1;
    const before = new Date(Date.now() - options.graceMs);
    let enqueued = 0;
    for (let page = 0; page < maxPages; page++) {
      const step = await scanDueWebhooks(options.db, {
        afterId: cursor,
        before,
        limit: pageSize,
        maxAttempts: options.maxAttempts,
      });
      for (const due of step.due) {
        const event = webhookEventOf(due.status);
        // Throws while Redis is down: the cursor stays put and the next pass tries again.
        await enqueueWebhook(options.producer, {
          messageId: webhookMessageId(due.jobId, due.generation, event),
          event,
          generation: due.generation,
        });
        enqueued++;
      }
      cursor = step.lastId;
      await options.producer.redis.set(cursorKey, String(cursor));
      if (step.scanned < pageSize) break;
    }
    if (enqueued) options.log.info({ enqueued }, 'webhook recovery enqueued messages');
    return enqueued;
  }

  return { recoverOnce };
}
