import { type Db, type JobRow, tenantWebhookUrl } from '@conveyor/db';
import { enqueueWebhook, type Producer } from '@conveyor/queue';
import { isTerminal, type Logger, webhookEventOf, webhookMessageId } from '@conveyor/shared';

/**
 * Enqueues the webhook of a job the API itself made terminal (cancel of a queued job), when it has an
 * endpoint of its own or the tenant has a default. Best effort: when Redis is down, the worker's recovery
 * scan finds the terminal job without a delivery and enqueues it.
 */
export async function enqueueTerminalWebhook(
  deps: { db: Db; producer: Producer; log: Logger },
  row: JobRow,
): Promise<void> {
  if (!isTerminal(row.status)) return;
  try {
    if (row.webhookUrl === null && (await tenantWebhookUrl(deps.db, row.tenantId)) === null) return;
    const event = webhookEventOf(row.status as 'succeeded' | 'failed' | 'canceled');
    await enqueueWebhook(deps.producer, {
      messageId: webhookMessageId(row.id, row.generation, event),
      event,
      generation: row.generation,
    });
  } catch (error) {
    deps.log.warn({ err: error, jobId: row.id }, 'webhook not enqueued; the recovery scan will enqueue it');
  }
}
