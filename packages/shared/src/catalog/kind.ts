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
}

export const defineKind = <P extends z.ZodType, R extends z.ZodType>(kind: JobKind<P, R>) => kind;
