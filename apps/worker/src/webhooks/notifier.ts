import { type Db, tenantWebhookUrl } from '@conveyor/db';
import { enqueueWebhook, type Producer } from '@conveyor/queue';
import { isTerminal, type JobStatus, type Logger, webhookEventOf, webhookMessageId } from '@conveyor/shared';

/** A job that has just reached a terminal state, as its writer knows it. */
export interface TerminalJob {
  id: string;
  tenantId: string;
  generation: number;
  status: JobStatus;
  /** The job's own endpoint; undefined when the writer does not know it (then the delivery decides). */
  webhookUrl?: string | null | undefined;
}

/** Calls to the notifier: fire-and-forget, never throws. */
export type WebhookNotifier = (job: TerminalJob) => void;

/**
 * Enqueues the webhook of a job that reached a terminal state, if it has an endpoint (its own or the
 * tenant's default). The tenant's default is cached for `tenantCacheMs` so a busy worker does not read it
 * for every job; a default set within that time is still honoured, later, by the recovery scan. A failed
 * enqueue (Redis down) is logged and left to that scan too: Postgres, not this call, is the record.
 */
export function createWebhookNotifier(deps: {
  db: Db;
  producer: Producer;
  log: Logger;
  /** Lifetime of a cached tenant default endpoint, in ms; default 5 000. */
  tenantCacheMs?: number;
}): WebhookNotifier {
  const ttl = deps.tenantCacheMs ?? 5_000;
  const cache = new Map<string, { url: string | null; until: number }>();

  async function tenantUrl(tenantId: string): Promise<string | null> {
    const hit = cache.get(tenantId);
    if (hit && hit.until > Date.now()) return hit.url;
    const url = await tenantWebhookUrl(deps.db, tenantId);
    if (cache.size > 10_000) cache.clear();
    cache.set(tenantId, { url, until: Date.now() + ttl });
    return url;
  }

  async function notify(job: TerminalJob & { status: 'succeeded' | 'failed' | 'canceled' }) {
    const own = job.webhookUrl;
    const hasEndpoint = own ? true : own === null ? (await tenantUrl(job.tenantId)) !== null : true;
    if (!hasEndpoint) return;
    const event = webhookEventOf(job.status);
    await enqueueWebhook(deps.producer, {
      messageId: webhookMessageId(job.id, job.generation, event),
      event,
      generation: job.generation,
    });
  }

  return (job) => {
    if (!isTerminal(job.status)) return;
    notify(job as TerminalJob & { status: 'succeeded' | 'failed' | 'canceled' }).catch((error: unknown) =>
      deps.log.warn({ err: error, jobId: job.id }, 'webhook not enqueued; the recovery scan will enqueue it'),
    );
  };
}
