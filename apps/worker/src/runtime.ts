import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '@conveyor/db';
import {
  createProducer,
  createQueueWorker,
  type QueueWorker,
  type RedisTarget,
  removeHeartbeat,
  subscribeCancels,
  writeHeartbeat,
} from '@conveyor/queue';
import { type Logger, SCHEDULES_QUEUE, WEBHOOKS_QUEUE } from '@conveyor/shared';
import type { BlobStore } from '@conveyor/storage';
import { parseAllowlist } from './fetch/allowlist';
import { createFileSweeper } from './file-sweeper';
import { createHandlers, type HandlerSet, type HandlerSettings } from './handlers/index';
import { RetryLaterError } from './job-error';
import { createJobRunner } from './job-runner';
import { createWorkerMetrics } from './metrics';
import { type MetricsServer, startMetricsServer } from './metrics-server';
import { createOutcomeCounter } from './outcome-counter';
import { createReconciler } from './reconciler';
import { createScheduleFirer } from './schedules';
import { createWebhookNotifier } from './webhooks/notifier';
import { createWebhookProcessor } from './webhooks/processor';
import { createWebhookRecovery } from './webhooks/recovery';

export interface WorkerRuntimeOptions {
  db: Db;
  log: Logger;
  /** One server's URL or a Redis Cluster's seed nodes. */
  redisUrl: RedisTarget;
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
  /** Serve Prometheus text at `GET /metrics` on this port (0 = any free port); default no server. */
  metricsServer?: { port: number; host?: string };
  /** Include Node's process metrics (`conveyor_process_*`, `conveyor_nodejs_*`); default true. */
  processMetrics?: boolean;
  /** How often this process writes its heartbeat to Redis, in ms; default 5 000. */
  heartbeatIntervalMs?: number;
  /** Webhook delivery (the `webhooks` queue and the recovery scan); defaults as in config.ts. */
  webhooks?: Partial<WebhookOptions>;
}

/** Webhook delivery settings (WEBHOOK_* in config.ts). */
export interface WebhookOptions {
  /** Attempts per message, the first included; default 8. */
  maxAttempts: number;
  /** Time one attempt may take, in ms; default 10 000. */
  timeoutMs: number;
  /** Delay after the first failed attempt, doubling after each later one, in ms; default 30 000. */
  retryBaseMs: number;
  /** Longest delay between attempts, in ms; default 1 800 000. */
  retryMaxMs: number;
  /** How far back a recovery scan starts, in ms; default 24 h. */
  recoveryWindowMs: number;
  /** Hosts and CIDRs exempt from the address policy; default the image fetcher's (FETCH_ALLOWLIST). */
  allowlist: string[];
}

/** Everything a worker process runs, built from its dependencies; `close()` stops it gracefully. */
export async function startWorkerRuntime(options: WorkerRuntimeOptions) {
  const { log } = options;
  const producer = createProducer({ redisUrl: options.redisUrl, prefix: options.prefix });
  const metrics = createWorkerMetrics({
    processMetrics: options.processMetrics ?? true,
    activeJobs: () => runner.activeCount,
  });
  const handlerSet =
    options.handlers ??
    createHandlers({ db: options.db, store: options.store, log, settings: options.handlerSettings });
  const webhookOptions: WebhookOptions = {
    maxAttempts: 8,
    timeoutMs: 10_000,
    retryBaseMs: 30_000,
    retryMaxMs: 1_800_000,
    recoveryWindowMs: 86_400_000,
    allowlist: options.handlerSettings.image.fetchAllowlist,
    ...options.webhooks,
  };
  const notifyWebhook = createWebhookNotifier({ db: options.db, producer, log });
  const webhooks = createWebhookProcessor({
    db: options.db,
    log,
    settings: {
      allowlist: parseAllowlist(webhookOptions.allowlist),
      timeoutMs: webhookOptions.timeoutMs,
      maxAttempts: webhookOptions.maxAttempts,
      backoff: { baseMs: webhookOptions.retryBaseMs, maxMs: webhookOptions.retryMaxMs },
    },
  });
  const fireSchedules = createScheduleFirer({ db: options.db, producer, log });
  const outcomes = createOutcomeCounter(producer);
  const runner = createJobRunner({
    onTerminal: notifyWebhook,
    db: options.db,
    store: options.store,
    fileRetentionMs: options.handlerSettings.fileRetentionMs,
    handlers: handlerSet.handlers,
    log,
    dbOutageRetryMs: options.dbOutageRetryMs,
    notify: (change) => producer.publishChange(change),
    guardWrite: (id, write) => producer.jobCache.guard(id, write),
    metrics: {
      attemptStarted: metrics.runner.attemptStarted,
      attemptEnded: (ended) => {
        metrics.runner.attemptEnded(ended);
        if (ended.outcome !== 'succeeded' && ended.outcome !== 'failed') return;
        const outcome = ended.outcome === 'succeeded' ? 'completed' : 'failed';
        outcomes.count(ended.queue, outcome);
      },
    },
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
      processor:
        queue === WEBHOOKS_QUEUE ? webhooks : queue === SCHEDULES_QUEUE ? fireSchedules : runner.process,
      retryDelay: (_attemptsMade, error) => (error instanceof RetryLaterError ? error.retryDelayMs : 1_000),
    });
    qw.worker.on('error', (error) => log.warn({ err: error, queue }, 'queue worker error'));
    qw.worker.on('stalled', (jobId) => {
      metrics.stalled(queue);
      log.warn({ jobId, queue }, 'stalled job put back in the queue');
    });
    return qw;
  });
  const cancels = await subscribeCancels(options.redisUrl, options.prefix, (id) => {
    if (runner.stop(id, 'canceled')) log.info({ jobId: id }, 'cancel requested: stopping job');
  });
  const cancelPoll = setInterval(() => {
    runner.pollCancels().catch((error: unknown) => log.warn({ err: error }, 'cancel poll failed'));
  }, options.cancelPollMs);
  const reconciler = options.reconcile
    ? createReconciler({
        db: options.db,
        producer,
        prefix: options.prefix,
        log,
        metrics: metrics.reconciler,
        onSettled: notifyWebhook,
        recoverWebhooks: createWebhookRecovery({
          db: options.db,
          producer,
          log,
          windowMs: webhookOptions.recoveryWindowMs,
          graceMs: options.reconcile.graceMs,
          maxAttempts: webhookOptions.maxAttempts,
        }).recoverOnce,
        ...options.reconcile,
      })
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
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const startedAt = new Date().toISOString();
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5_000;
  const beat = () =>
    writeHeartbeat(producer.redis, producer.prefix, {
      id: workerId,
      hostname: hostname(),
      pid: process.pid,
      queues: [...options.queues],
      concurrency: Object.fromEntries(options.queues.map((q) => [q, options.concurrency[q] ?? 1])),
      active: runner.activeCount,
      startedAt,
      lastSeen: new Date().toISOString(),
      intervalMs: heartbeatIntervalMs,
    }).catch(() => {}); // Redis down: the fleet view shows this process gone until it is back.
  // The first heartbeat goes out as soon as the connection is up, not an interval later.
  if (producer.redis.status === 'ready') void beat();
  else producer.redis.once('ready', () => void beat());
  const heartbeat = setInterval(beat, heartbeatIntervalMs);
  let metricsServer: MetricsServer | undefined;
  if (options.metricsServer) {
    const { port, host = '0.0.0.0' } = options.metricsServer;
    // A taken port (two workers on one host) must not stop job processing: say so loudly and run on.
    metricsServer = await startMetricsServer(metrics.registry, port, host).catch((error: unknown) => {
      log.error({ err: error, port, host }, 'worker metrics server not started (set WORKER_METRICS_PORT)');
      return undefined;
    });
    if (metricsServer) log.info({ port: metricsServer.port, host }, 'worker metrics listening');
  }
  log.info({ queues: options.queues, concurrency: options.concurrency }, 'worker started');

  return {
    runner,
    reconciler,
    sweeper,
    producer,
    workers,
    metrics,
    workerId,
    /** The metrics server's port, when it runs. */
    metricsPort: metricsServer?.port,
    /**
     * Stops taking jobs and lets active ones finish for up to `graceMs`; then asks the rest to stop and
     * hands them back to the queue (another worker takes them at once), and closes connections.
     */
    async close(graceMs: number) {
      clearInterval(cancelPoll);
      clearInterval(heartbeat);
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
      outcomes.close();
      await removeHeartbeat(producer.redis, producer.prefix, workerId).catch(() => {});
      await metricsServer?.close();
      await producer.close();
    },
  };
}

export type WorkerRuntime = Awaited<ReturnType<typeof startWorkerRuntime>>;
