import { withTimeout } from './connection';
import { BACKOFF_TYPE } from './job-options';
import { type Producer, RedisUnavailableError } from './producer';

/** The queue of webhook deliveries (`WEBHOOKS_QUEUE` in @conveyor/shared). */
const QUEUE = 'webhooks';

/** One webhook message to deliver: the BullMQ job id is its message id, so enqueueing twice is harmless. */
export interface WebhookMessageRef {
  /** The Standard Webhooks message id (`webhook-id`), e.g. `msg_<job id>_<generation>_<status>`. */
  messageId: string;
  /** `job.succeeded`, `job.failed` or `job.canceled`: the BullMQ job name. */
  event: string;
  generation: number;
}

/**
 * BullMQ's attempt budget for one delivery: only a backstop. The worker counts attempts in Postgres (the
 * delivery log) against WEBHOOK_MAX_ATTEMPTS, so a message re-enqueued after Redis lost it goes on counting.
 */
const BULLMQ_ATTEMPTS = 100;

/**
 * Adds a delivery. Attempts beyond the first are timed by the worker's backoff strategy; finished
 * deliveries stay in Redis for a day (failed ones a week) so a repeated add within that time is a no-op.
 * Rejects at once when Redis is not connected: the caller logs it and the recovery scan enqueues later.
 */
export function enqueueWebhook(
  producer: Producer,
  ref: WebhookMessageRef,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  if (producer.redis.status !== 'ready') return Promise.reject(new RedisUnavailableError());
  const add = producer.queue(QUEUE).add(
    ref.event,
    { gen: ref.generation },
    {
      jobId: ref.messageId,
      attempts: BULLMQ_ATTEMPTS,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: { age: 24 * 3600, count: 100_000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 100_000 },
    },
  );
  return withTimeout(add, options.timeoutMs ?? 2_000, 'enqueue webhook').then(() => undefined);
}
