import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): a secret is `whsec_` + base64 of random
 * bytes; a signature is `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)) where the key is the
 * base64-decoded part after `whsec_`. Several signatures (a rotation) go space-separated in one header.
 */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Bytes of randomness in a new secret (the spec asks for 24–64). */
const SECRET_BYTES = 32;

/** How long the secret replaced by a rotation still signs deliveries, in ms: 24 h. */
export const WEBHOOK_PREVIOUS_SECRET_TTL_MS = 24 * 3_600_000;

export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/** The HMAC key of a `whsec_` secret; throws on anything else so a corrupt secret never signs silently. */
function secretKey(secret: string): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error('webhook secret must start with whsec_');
  const key = Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
  if (key.length === 0) throw new Error('webhook secret holds no key');
  return key;
}

/** One `v1,<base64>` signature of a message. `timestamp` is in unix seconds. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header value: one signature per secret, space-separated, current secret first. */
export function webhookSignatureHeader(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): string {
  return secrets.map((s) => signWebhook(s, id, timestamp, body)).join(' ');
}

/** The three Standard Webhooks headers of one delivery attempt. */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': webhookSignatureHeader(secrets, id, timestamp, body),
  };
}
