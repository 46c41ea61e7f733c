import { z } from 'zod';

/** Longest webhook URL accepted, in characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2_048;

/** Why a URL cannot be a webhook endpoint, or null when it can (syntax only; addresses are judged at delivery). */
export function webhookUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username || url.password) return 'must not carry credentials (user:password@)';
  if (!url.hostname) return 'must name a host';
  return null;
}

/**
 * A webhook endpoint as a client gives it. Only the syntax is checked here: whether its host may be reached
 * (loopback, private and metadata addresses are refused unless FETCH_ALLOWLIST admits them) is decided by the
 * worker at each delivery, when the name is resolved.
 */
export const webhookUrl = z
  .string()
  .max(MAX_WEBHOOK_URL_LENGTH)
  .superRefine((value, ctx) => {
    const problem = webhookUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** `webhook` on a job submit: where this job's terminal event is delivered instead of the tenant default. */
export const jobWebhook = z.object({ url: webhookUrl }).strict().meta({ id: 'JobWebhook' });

export const WEBHOOK_EVENTS = ['job.succeeded', 'job.failed', 'job.canceled'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** PUT /v1/webhook-settings: the tenant's default endpoint; null removes it. */
export const updateWebhookSettingsRequest = z
  .object({ url: webhookUrl.nullable() })
  .strict()
  .meta({ id: 'UpdateWebhookSettings' });

export const disabledWebhookEndpointView = z.object({
  url: z.string(),
  reason: z.string(),
  disabledAt: z.string(),
});

export const webhookSettingsView = z
  .object({
    url: z.string().nullable(),
    /** The current signing secret (`whsec_…`). */
    secret: z.string(),
    /** While set and in the future, deliveries carry a second signature made with the previous secret. */
    previousSecretExpiresAt: z.string().nullable(),
    disabledEndpoints: z.array(disabledWebhookEndpointView),
  })
  .meta({ id: 'WebhookSettings' });
export type WebhookSettingsView = z.infer<typeof webhookSettingsView>;

export const webhookDeliveryView = z
  .object({
    id: z.uuid(),
    /** The `webhook-id` header: the same on every attempt of one message. */
    messageId: z.string(),
    event: z.enum(WEBHOOK_EVENTS),
    url: z.string(),
    attempt: z.number().int(),
    outcome: z.enum(['delivered', 'failed', 'disabled']),
    responseStatus: z.number().int().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDeliveryView = z.infer<typeof webhookDeliveryView>;

/** The event a terminal status produces. */
export const webhookEventOf = (status: 'succeeded' | 'failed' | 'canceled'): WebhookEvent => `job.${status}`;

/**
 * The Standard Webhooks message id (`webhook-id`) of a job's terminal event: one per job, generation and
 * event, so every attempt and every re-enqueue of one message carries the same id and receivers can
 * deduplicate. It doubles as the BullMQ job id of the delivery (no `:`, never an integer).
 * packages/db/src/queries/webhooks.ts builds the same string in SQL.
 */
export const webhookMessageId = (jobId: string, generation: number, event: WebhookEvent): string =>
  `msg_${jobId}_${generation}_${event.slice('job.'.length)}`;

/** The parts of a message id, or null when it is not one. */
export function parseWebhookMessageId(
  id: string,
): { jobId: string; generation: number; event: WebhookEvent } | null {
  const m = /^msg_([0-9a-f-]{36})_(\d+)_(succeeded|failed|canceled)$/.exec(id);
  if (!m) return null;
  return { jobId: m[1]!, generation: Number(m[2]), event: `job.${m[3]}` as WebhookEvent };
}
