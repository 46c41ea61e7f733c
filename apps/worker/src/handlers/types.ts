import type { JobType, Logger, PayloadOf, ResultOf } from '@conveyor/shared';

/** What a handler gets besides its payload. */
export interface HandlerContext {
  jobId: string;
  /** 1 for the first start of this job's current life; use it with jobId to make effects idempotent. */
  attempt: number;
  /** Fires on cancel, timeout or worker shutdown; a handler should stop promptly when it does. */
  signal: AbortSignal;
  log: Logger;
  /** Records progress (0–100) on the job. */
  progress(percent: number): Promise<void>;
}

export type Handler<T extends JobType> = (payload: PayloadOf<T>, ctx: HandlerContext) => Promise<ResultOf<T>>;

/** One handler per kind in the catalog: a kind without a handler is a compile error here. */
export type HandlerMap = { [T in JobType]: Handler<T> };
