import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from './harness';
import type { AnswerRecorder } from './invariants';

/** Sends one submit and returns the answer (or throws when there is none). */
export type Submit = (body: unknown) => Promise<Response>;

/** Submits through the harness's in-process API. */
export const inProcessSubmit =
  (h: Harness): Submit =>
  (body) =>
    h.request('POST', '/v1/jobs', { body });

/** Submits over HTTP to a real API process; a request unanswered after `timeoutMs` counts as no answer. */
export const httpSubmit =
  (base: string, key: string, timeoutMs = 10_000): Submit =>
  (body) =>
    fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });

export interface LoadOptions {
  total: number;
  /** Submits in flight at once. */
  concurrency?: number;
  /** Pause after each answer, per submitter: spreads the load over the fault. */
  pauseMs?: number;
  /** The job to submit as number `i`; default a noop sleeping 20–220 ms. */
  body?: (i: number) => unknown;
}

export interface Load {
  /** Resolves once `total` submits were answered (or stop() was called). */
  done: Promise<void>;
  submitted(): number;
  stop(): Promise<void>;
}

export const noopJob = (i: number) => ({
  type: 'noop',
  payload: { sleepMs: 20 + ((i * 37) % 200), echo: i },
});

/** A load generator: submits jobs and records every answer (and every 202's job id) in `recorder`. */
export function startLoad(submit: Submit, recorder: AnswerRecorder, opts: LoadOptions): Load {
  let next = 0;
  let stopped = false;
  const body = opts.body ?? noopJob;
  const one = async () => {
    while (!stopped && next < opts.total) {
      const i = next++;
      const startedAt = Date.now();
      try {
        await recorder.recordSubmit(await submit(body(i)), startedAt);
      } catch {
        recorder.recordNoAnswer();
        await sleep(100);
      }
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  const done = Promise.all(Array.from({ length: opts.concurrency ?? 4 }, one)).then(() => undefined);
  return {
    done,
    submitted: () => next,
    async stop() {
      stopped = true;
      await done;
    },
  };
}
