import type { z } from 'zod';
import type { BackoffPolicy } from '../backoff';

/** Everything the system knows about one job kind, written once. */
export interface JobKind<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  /** The BullMQ queue (and so the worker pool) that runs it. */
  queue: string;
  payload: P;
  result: R;
  /** Default attempt budget; a submit may override it (1–100). */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Default time one attempt may take, in ms, enforced through the handler's AbortSignal. */
  timeoutMs: number;
  /**
   * Payload fields whose values must never reach a log line, as dot paths (`*` = any key or list item):
   * `['auth.password', 'headers.*']`. Redacted by redactPayload (redact.ts) on top of the keys that look
   * like secrets anywhere (password, token, secret, apiKey, authorization, …). Logs only: the API still
   * returns the payload to its tenant.
   */
  sensitive?: readonly string[];
}

export const defineKind = <P extends z.ZodType, R extends z.ZodType>(kind: JobKind<P, R>) => kind;
