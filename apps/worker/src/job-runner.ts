import {
  cancelAttempt,
  cancelRequestedAmong,
  completeAttempts,
  type Db,
  failAttempt,
  interruptAttempt,
  isDbUnavailable,
  type JobRow,
  recordProgress,
  startAttempt,
  startAttempts,
} from '@conveyor/db';
import {
  DelayedError,
  type JobChange,
  type QueueJob,
  UnrecoverableError,
  WaitingError,
} from '@conveyor/queue';
import {
  catalog,
  createCoalescer,
  isJobType,
  isTerminal,
  type Logger,
  PermanentError,
  redactPayload,
  retryDelayMs,
  scrubbingLoggerOptions,
  sensitiveValues,
} from '@conveyor/shared';
import type { BlobStore } from '@conveyor/storage';
import { withDbRetry } from './db-retry';
import type { HandlerContext, HandlerMap } from './handlers/index';
import { classifyError, RetryLaterError } from './job-error';
import { createJobFiles } from './job-files';

/** Why a running job was told to stop. */
export type StopReason = 'canceled' | 'shutdown';

export interface JobRunnerDeps {
  db: Db;
  store: BlobStore;
  handlers: HandlerMap;
  log: Logger;
  /** How long artifacts are kept, in ms. */
  fileRetentionMs: number;
  /** How long to keep retrying a Postgres write during an outage, in ms. */
  dbOutageRetryMs: number;
  /** Tells API instances a job changed (wakes long-polls and event streams); fire-and-forget. */
  notify: (change: JobChange) => void;
  /**
   * Wraps every write of a job's row so the API's read cache never serves a view older than it (the
   * producer's `jobCache.guard`); default: the write alone. Notices and BullMQ outcomes follow it.
   */
  guardWrite?: <T>(id: string, write: () => Promise<T>) => Promise<T>;
  /** Counts attempts and outcomes (Prometheus, throughput); default none. */
  metrics?: JobRunnerMetrics;
  /** Told of every terminal outcome this runner records (webhook delivery); fire-and-forget. */
  onTerminal?: (row: Pick<JobRow, 'id' | 'tenantId' | 'generation' | 'status' | 'webhookUrl'>) => void;
}

/** How an attempt ended: `interrupted` = handed back by a shutdown, `retrying` = failed with a retry left. */
export type AttemptOutcome = 'succeeded' | 'retrying' | 'failed' | 'canceled' | 'interrupted';

/** The runner's metric hooks; called synchronously, so they must be cheap and must not throw. */
export interface JobRunnerMetrics {
  attemptStarted(kind: string, queue: string): void;
  /** `code` is the error code of a failed or retrying attempt. */
  attemptEnded(ended: {
    kind: string;
    queue: string;
    outcome: AttemptOutcome;
    durationS: number;
    code?: string;
  }): void;
}

/** What the processor returns to BullMQ: kept as the job's return value for the reconciler. */
export type RunOutcome = { result: unknown; fence: number } | { skipped: string };

/** Rejects with the signal's reason once it aborts, so a handler that ignores its signal is still cut off. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The wrapper around every handler: starts the attempt in Postgres (fenced), parses the payload, runs the
 * handler under cancel/timeout/shutdown signals, and records the outcome — or hands the job back.
 */
export function createJobRunner(deps: JobRunnerDeps) {
  const active = new Map<string, AbortController>();
  const guard = deps.guardWrite ?? (<T>(_id: string, write: () => Promise<T>) => write());
  /** A row write, retried through a short outage, inside the read-cache guard. */
  const db = <T>(id: string, fn: () => Promise<T>) => guard(id, () => withDbRetry(fn, deps.dbOutageRetryMs));
  // The starts and the successes of one event-loop turn are one statement each (job-runs-batched.ts); a
  // start the batch could not make goes through startAttempt, which says why (skip) or makes it.
  const starts = createCoalescer(async (items: { id: string; generation: number }[]) => {
    const started = await startAttempts(deps.db, items);
    return items.map((i) => started.get(i.id));
  });
  const startOne = async (id: string, generation: number) => {
    const row = await starts.add({ id, generation });
    return row ? ({ kind: 'run', row } as const) : startAttempt(deps.db, id, generation);
  };
  const completions = createCoalescer(async (items: { id: string; fence: number; result: unknown }[]) => {
    const recorded = await completeAttempts(deps.db, items);
    return items.map((i) => recorded.has(i.id));
  });
  const notifyChange = (
    row: Pick<JobRow, 'id' | 'tenantId' | 'type' | 'status' | 'generation' | 'webhookUrl'>,
  ) => {
    deps.notify({ tenantId: row.tenantId, jobId: row.id, type: row.type, status: row.status });
    if (isTerminal(row.status)) deps.onTerminal?.(row);
  };

  async function process(job: QueueJob, token: string | undefined): Promise<RunOutcome> {
    const id = job.id!;
    let start: Awaited<ReturnType<typeof startAttempt>>;
    try {
      start = await db(id, () => startOne(id, job.data.gen));
    } catch (error) {
      if (isDbUnavailable(error) && token) {
        // Not an attempt: hand the job back without spending its budget and try again shortly.
        deps.log.warn({ jobId: id }, 'postgres unavailable at job start; delaying job');
        await job.moveToDelayed(Date.now() + 5_000, token);
        throw new DelayedError();
      }
      throw error;
    }
    if (start.kind === 'skip') {
      deps.log.info({ jobId: id, reason: start.reason }, 'job not run');
      if ('row' in start) notifyChange(start.row);
      return { skipped: start.reason };
    }
    return runAttempt(start.row, job, token);
  }

  async function runAttempt(row: JobRow, job: QueueJob, token: string | undefined) {
    // This job's sensitive payload values are scrubbed from whatever its lines carry (a handler's error
    // quoting its payload included); see redact.ts.
    const secrets = sensitiveValues(row.type, row.payload);
    const log = deps.log.child(
      {
        jobId: row.id,
        kind: row.type,
        queue: row.queue,
        attempt: row.attempts,
        requestId: row.requestId ?? undefined,
      },
      secrets.length > 0 ? scrubbingLoggerOptions(secrets) : {},
    );
    const stop = new AbortController();
    active.set(row.id, stop);
    const timeout = AbortSignal.timeout(row.timeoutMs);
    const signal = AbortSignal.any([stop.signal, timeout]);
    const fence = row.fence;
    const startedAt = performance.now();
    deps.metrics?.attemptStarted(row.type, row.queue);
    const ended = (outcome: AttemptOutcome, code?: string) =>
      deps.metrics?.attemptEnded({
        kind: row.type,
        queue: row.queue,
        outcome,
        durationS: (performance.now() - startedAt) / 1_000,
        ...(code === undefined ? {} : { code }),
      });
    log.info('job started');
    notifyChange(row);
    const changed = (status: JobRow['status']) => notifyChange({ ...row, status });
    let result: unknown;
    try {
      if (!isJobType(row.type))
        throw new PermanentError('unknown_type', `no handler for job type ${row.type}`);
      const kind = catalog[row.type];
      const payload = kind.payload.safeParse(row.payload);
      if (!payload.success) throw new PermanentError('invalid_payload', payload.error.message);
      const handler = deps.handlers[row.type] as (p: unknown, ctx: unknown) => Promise<unknown>;
      const files = createJobFiles(
        { db: deps.db, store: deps.store, retentionMs: deps.fileRetentionMs },
        { tenantId: row.tenantId, jobId: row.id },
      );
      const ctx: HandlerContext = {
        jobId: row.id,
        tenantId: row.tenantId,
        attempt: row.attempts,
        saveArtifact: files.saveArtifact,
        readUpload: files.readUpload,
        signal,
        log,
        // Best effort: a progress write lost to a database outage must not fail the job.
        progress: async (percent: number) => {
          try {
            const { cancelRequested } = await guard(row.id, () =>
              recordProgress(deps.db, { id: row.id, fence, progress: percent }),
            );
            if (cancelRequested) stop.abort('canceled' satisfies StopReason);
          } catch (error) {
            if (!isDbUnavailable(error)) throw error;
            log.warn('progress not recorded: postgres unavailable');
          }
        },
      };
      result = kind.result.parse(await untilAborted(handler(payload.data, ctx), signal));
    } catch (error) {
      return await recordFailure(error);
    } finally {
      active.delete(row.id);
    }
    try {
      const recorded = await db(row.id, () => completions.add({ id: row.id, fence, result }));
      if (!recorded) log.warn('stale attempt: its result was discarded (a newer attempt owns the job)');
      else {
        log.info({ durationMs: Math.round(performance.now() - startedAt) }, 'job succeeded');
        changed('succeeded');
      }
    } catch (error) {
      if (!isDbUnavailable(error)) throw error;
      // The work is done: do not run it again. BullMQ keeps this result as the job's return value and
      // the reconciler writes it to Postgres once Postgres is back.
      log.error({ err: error }, 'job succeeded but postgres is unreachable; the reconciler will record it');
    }
    ended('succeeded');
    return { result, fence };

    /**
     * Records a failure outcome, retrying through a short outage; if Postgres stays away the outcome is
     * still handed to BullMQ (by the throw that follows), and the reconciler or the next start fixes the row.
     */
    async function tolerateOutage(write: () => Promise<boolean>): Promise<boolean> {
      try {
        return await db(row.id, write);
      } catch (error) {
        if (!isDbUnavailable(error)) throw error;
        log.error({ err: error }, 'outcome not recorded: postgres unreachable');
        return true;
      }
    }

    async function recordFailure(error: unknown): Promise<never> {
      const reason = stop.signal.aborted ? (stop.signal.reason as StopReason) : undefined;
      if (reason === 'canceled') {
        await tolerateOutage(() => cancelAttempt(deps.db, { id: row.id, fence }));
        log.info('job canceled while running');
        changed('canceled');
        ended('canceled');
        throw new UnrecoverableError('canceled');
      }
      if (reason === 'shutdown') {
        // The worker is stopping: hand the job straight back to the queue for another worker.
        await tolerateOutage(() => interruptAttempt(deps.db, { id: row.id, fence }));
        log.warn('job interrupted by shutdown; returned to the queue');
        changed('retrying');
        ended('interrupted');
        if (token) await job.moveToWait(token);
        throw new WaitingError();
      }
      const { body, retryable } = classifyError(error, timeout.aborted);
      const delay = retryable && row.attempts < row.maxAttempts ? retryDelayFor(row) : null;
      const recorded = await tolerateOutage(() =>
        failAttempt(deps.db, {
          id: row.id,
          fence,
          error: body,
          retryAt: delay === null ? null : new Date(Date.now() + delay),
        }),
      );
      if (!recorded) log.warn('stale attempt: its failure was discarded (a newer attempt owns the job)');
      else changed(delay === null ? 'failed' : 'retrying');
      ended(delay === null ? 'failed' : 'retrying', body.code);
      if (delay === null) {
        // The payload helps whoever reads the failure; the kind's sensitive fields and secret-looking keys are not in it.
        log.error(
          { err: error, code: body.code, payload: redactPayload(row.type, row.payload) },
          'job failed',
        );
        throw new UnrecoverableError(body.message);
      }
      log.warn({ err: error, code: body.code, retryInMs: delay }, 'job attempt failed; will retry');
      throw new RetryLaterError(body.message, delay);
    }
  }

  return {
    process,
    /** Asks the job, if this process runs it, to stop. */
    stop(id: string, reason: StopReason): boolean {
      const controller = active.get(id);
      controller?.abort(reason);
      return controller !== undefined;
    },
    stopAll(reason: StopReason) {
      for (const controller of active.values()) controller.abort(reason);
    },
    get activeCount() {
      return active.size;
    },
    /** The fallback for a missed pub/sub message: ask Postgres which of our jobs were asked to stop. */
    async pollCancels(): Promise<void> {
      if (active.size === 0) return;
      for (const id of await cancelRequestedAmong(deps.db, [...active.keys()]))
        active.get(id)?.abort('canceled');
    },
  };
}

function retryDelayFor(row: JobRow): number {
  const policy = isJobType(row.type) ? catalog[row.type].backoff : { baseMs: 1_000, maxMs: 60_000 };
  return retryDelayMs(policy, row.attempts);
}

export type JobRunner = ReturnType<typeof createJobRunner>;
