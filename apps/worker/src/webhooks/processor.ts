import {
  type Db,
  disableWebhookEndpoint,
  isDbUnavailable,
  loadWebhookMessage,
  type NewWebhookDelivery,
  recordWebhookDelivery,
  toJobView,
} from '@conveyor/db';
import { DelayedError, type QueueJob } from '@conveyor/queue';
import {
  type BackoffPolicy,
  generateWebhookSecret,
  isTerminal,
  type Logger,
  PermanentError,
  parseWebhookMessageId,
  retryDelayMs,
  webhookEventOf,
  webhookHeaders,
} from '@conveyor/shared';
import type { Allowlist } from '../fetch/allowlist';
import { RetryLaterError } from '../job-error';
import { postWebhook } from './post';

export interface WebhookDeliverySettings {
  allowlist: Allowlist;
  /** Time one attempt may take, DNS to answer, in ms. */
  timeoutMs: number;
  /** Attempts per message, the first included; counted in Postgres (`webhook_deliveries`). */
  maxAttempts: number;
  /** Delay before each next attempt: capped exponential with equal jitter. */
  backoff: BackoffPolicy;
}

/** Why a delivery job ended without an attempt (kept as the BullMQ return value, and logged). */
export type DeliverySkip =
  | 'malformed_id'
  | 'missing'
  | 'stale_generation'
  | 'other_outcome'
  | 'settled'
  | 'no_endpoint'
  | 'exhausted';

/** Pause before looking again at a job whose outcome Postgres does not show yet, or while Postgres is down, in ms. */
const LOOK_AGAIN_MS = 5_000;

/** Thrown to park the delivery without spending a BullMQ attempt (see `process`). */
class NotYet extends Error {}
const MAX_ERROR = 1_000;

/**
 * Delivers one webhook message per BullMQ job (job id = message id). Postgres decides everything: the job's
 * current state and endpoint, the secrets, and the attempt number (the delivery log), so a re-enqueued
 * message goes on counting where it stopped and a settled one is never sent again.
 */
export function createWebhookProcessor(deps: { db: Db; log: Logger; settings: WebhookDeliverySettings }) {
  const { settings } = deps;

  type Result = { skipped: DeliverySkip } | { outcome: string };

  /**
   * Runs one delivery. When the job's outcome is not in Postgres yet (the runner announced it during an
   * outage; the reconciler writes it later) or Postgres is unreachable, the BullMQ job is moved back to the
   * delayed set instead of failing: an attempt spent there could exhaust BullMQ's budget, and a failed
   * job of this id would turn every later enqueue of the message into a no-op.
   */
  return async function process(job: QueueJob, token: string | undefined): Promise<Result> {
    try {
      return await deliver(job);
    } catch (error) {
      if ((error instanceof NotYet || isDbUnavailable(error)) && token) {
        await job.moveToDelayed(Date.now() + LOOK_AGAIN_MS, token);
        throw new DelayedError();
      }
      throw error;
    }
  };

  async function deliver(job: QueueJob): Promise<Result> {
    const messageId = job.id ?? '';
    const parsed = parseWebhookMessageId(messageId);
    const skip = (reason: DeliverySkip) => {
      deps.log.info({ messageId, reason }, 'webhook not delivered');
      return { skipped: reason };
    };
    if (!parsed) return skip('malformed_id');
    const ctx = await loadWebhookMessage(deps.db, {
      jobId: parsed.jobId,
      messageId,
      newSecret: generateWebhookSecret(),
    });
    if (!ctx) return skip('missing');
    const row = ctx.job;
    if (row.generation !== parsed.generation) return skip('stale_generation');
    // The runner announces an outcome even when Postgres was unreachable; the reconciler writes it later.
    if (!isTerminal(row.status)) throw new NotYet('job outcome not recorded yet');
    if (webhookEventOf(row.status as 'succeeded' | 'failed' | 'canceled') !== parsed.event)
      return skip('other_outcome');
    if (ctx.settled) return skip('settled');
    if (!ctx.url) return skip('no_endpoint');
    const attempt = ctx.attempts + 1;
    if (attempt > settings.maxAttempts) return skip('exhausted');
    const log = deps.log.child({ messageId, jobId: row.id, url: ctx.url, attempt });
    const entry = (fields: Pick<NewWebhookDelivery, 'outcome'> & Partial<NewWebhookDelivery>) =>
      recordWebhookDelivery(deps.db, {
        tenantId: row.tenantId,
        jobId: row.id,
        messageId,
        event: parsed.event,
        url: ctx.url!,
        attempt,
        responseStatus: null,
        error: null,
        durationMs: null,
        ...fields,
      });

    if (ctx.disabled) {
      await entry({ outcome: 'disabled', error: 'the endpoint answered 410 Gone earlier and is disabled' });
      log.info('webhook endpoint disabled: not delivered');
      return { outcome: 'disabled' };
    }

    const body = JSON.stringify({
      type: parsed.event,
      timestamp: (row.finishedAt ?? row.updatedAt).toISOString(),
      data: toJobView(row),
    });
    const now = Date.now();
    const secrets = [ctx.secret];
    if (ctx.previousSecret && ctx.previousSecretExpiresAt && ctx.previousSecretExpiresAt.getTime() > now)
      secrets.push(ctx.previousSecret);
    const headers = webhookHeaders(secrets, messageId, Math.floor(now / 1_000), body);
    const started = performance.now();
    let status: number | null = null;
    let failure: unknown;
    try {
      ({ status } = await postWebhook(ctx.url, body, headers, settings));
    } catch (error) {
      failure = error;
    }
    const durationMs = Math.round(performance.now() - started);

    if (status !== null && status >= 200 && status < 300) {
      await entry({ outcome: 'delivered', responseStatus: status, durationMs });
      log.info({ status, durationMs }, 'webhook delivered');
      return { outcome: 'delivered' };
    }
    if (status === 410) {
      // The receiver says the endpoint is gone for good: stop here and send nothing more to it.
      await disableWebhookEndpoint(deps.db, {
        tenantId: row.tenantId,
        url: ctx.url,
        reason: 'answered 410 Gone',
      });
      await entry({ outcome: 'disabled', responseStatus: 410, durationMs, error: 'answered 410 Gone' });
      log.warn('webhook endpoint answered 410 Gone: disabled');
      return { outcome: 'disabled' };
    }
    const error =
      status !== null
        ? `answered ${status}`
        : (failure instanceof Error ? failure.message : String(failure)).slice(0, MAX_ERROR);
    await entry({ outcome: 'failed', responseStatus: status, durationMs, error });
    // A refused address (SSRF guard) or a name that does not resolve will not get better by waiting.
    const permanent = failure instanceof PermanentError;
    if (permanent || attempt >= settings.maxAttempts) {
      log.warn({ error, status }, permanent ? 'webhook refused: not retried' : 'webhook given up');
      return { outcome: 'failed' };
    }
    const delay = retryDelayMs(settings.backoff, attempt);
    log.info({ error, status, retryInMs: delay }, 'webhook attempt failed; will retry');
    throw new RetryLaterError(error, delay);
  }
}
