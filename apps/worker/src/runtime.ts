import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '@conveyor/db';
import { createProducer, createQueueWorker, type QueueWorker, subscribeCancels } from '@conveyor/queue';
import type { Logger } from '@conveyor/shared';
import type { BlobStore } from '@conveyor/storage';
import { createFileSweeper } from './file-sweeper';
import { createHandlers, type HandlerSet, type HandlerSettings } from './handlers/index';
import { RetryLaterError } from './job-error';
import { createJobRunner } from './job-runner';
import { createReconciler } from './reconciler';

export interface WorkerRuntimeOptions {
  db: Db;
  log: Logger;
  redisUrl: string;
  prefix: string;
  queues: readonly string[];
  /** Concurrency per queue; a queue missing here runs 1 at a time. */
  concurrency: Record<string, number>;
  lockDurationMs: number;
  stalledIntervalMs: number;
  dbOutageRetryMs: number;
  cancelPollMs: number;
  /** Reconciler timing, or false for a process that should not run it. */
  reconcile: { intervalMs: number; graceMs: number } | false;
  store: BlobStore;
  handlerSettings: HandlerSettings;
  /** Expired-file sweep interval in ms, or false to leave sweeping to other processes. */
  fileSweepIntervalMs: number | false;
  /** Replaces the built-in handlers (tests, or an embedding application). */
  handlers?: HandlerSet;
}

/** Everything a worker process runs, built from its dependencies; `close()` stops it gracefully. */
export async function startWorkerRuntime(options: WorkerRuntimeOptions) {
  const { log } = options;
  const producer = createProducer({ redisUrl: options.redisUrl, prefix: options.prefix });
  const handlerSet =
    options.handlers ??
    createHandlers({ db: options.db, store: options.store, log, settings: options.handlerSettings });
  const runner = createJobRunner({
    db: options.db,
    store: options.store,
    fileRetentionMs: options.handlerSettings.fileRetentionMs,
    handlers: handlerSet.handlers,
    log,
    dbOutageRetryMs: options.dbOutageRetryMs,
    notify: (change) => producer.publishChange(change),
  });
  const workers: QueueWorker[] = options.queues.map((queue) => {
    const qw = createQueueWorker({
      redisUrl: options.redisUrl,
      prefix: options.prefix,
      queue,
      concurrency: options.concurrency[queue] ?? 1,
      lockDurationMs: options.lockDurationMs,
      stalledIntervalMs: options.stalledIntervalMs,
      // Postgres counts every start against the attempt budget; BullMQ's stall limit is only a backstop.
      maxStalledCount: 100,
      processor: runner.process,
      retryDelay: (_attemptsMade, error) => (error instanceof RetryLaterError ? error.retryDelayMs : 1_000),
    });
    qw.worker.on('error', (error) => log.warn({ err: error, queue }, 'queue worker error'));
    return qw;
  });
  const cancels = await subscribeCancels(options.redisUrl, options.prefix, (id) => {
    if (runner.stop(id, 'canceled')) log.info({ jobId: id }, 'cancel requested: stopping job');
  });
  const cancelPoll = setInterval(() => {
    runner.pollCancels().catch((error: unknown) => log.warn({ err: error }, 'cancel poll failed'));
  }, options.cancelPollMs);
  const reconciler = options.reconcile
    ? createReconciler({ db: options.db, producer, prefix: options.prefix, log, ...options.reconcile })
    : undefined;
  reconciler?.start();
  const sweeper =
    options.fileSweepIntervalMs === false
      ? undefined
      : createFileSweeper({
          db: options.db,
          store: options.store,
          producer,
          prefix: options.prefix,
          log,
          intervalMs: options.fileSweepIntervalMs,
        });
  sweeper?.start();
  log.info({ queues: options.queues, concurrency: options.concurrency }, 'worker started');

  return {
    runner,
    reconciler,
    sweeper,
    producer,
    workers,
    /**
     * Stops taking jobs and lets active ones finish for up to `graceMs`; then asks the rest to stop and
     * hands them back to the queue (another worker takes them at once), and closes connections.
     */
    async close(graceMs: number) {
      clearInterval(cancelPoll);
      await Promise.all([reconciler?.stop(), sweeper?.stop()]);
      const closing = Promise.all(workers.map((w) => w.worker.close()));
      const finished = await Promise.race([closing.then(() => true), sleep(graceMs).then(() => false)]);
      if (!finished) {
        log.warn({ active: runner.activeCount }, 'grace period over: handing active jobs back');
        runner.stopAll('shutdown');
        await Promise.race([closing, sleep(5_000)]);
      }
      for (const w of workers) w.disconnect();
      cancels.close();
      await handlerSet.close();
      await producer.close();
    },
  };
}

export type WorkerRuntime = Awaited<ReturnType<typeof startWorkerRuntime>>;
