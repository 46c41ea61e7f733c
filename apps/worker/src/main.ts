import { createDb, pingDb } from '@conveyor/db';
import { createRedis, describeRedisTarget, redisTarget, withTimeout } from '@conveyor/queue';
import { ConfigError, createLogger, dependencyHint, onShutdownSignals } from '@conveyor/shared';
import { createLocalDiskStore } from '@conveyor/storage';
import { loadWorkerConfig } from './config';
import { startWorkerRuntime } from './runtime';

let config: ReturnType<typeof loadWorkerConfig>;
try {
  config = loadWorkerConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const log = createLogger({ name: 'worker', level: config.LOG_LEVEL });
const { db, close: closeDb } = createDb(config.DATABASE_URL, {
  max: config.WORKER_DB_POOL_SIZE,
  applicationName: 'conveyor-worker',
});

// Say plainly what is missing; then keep going: BullMQ waits for Redis, and Postgres writes are retried.
await withTimeout(pingDb(db), 3_000, 'postgres').catch(() =>
  log.error(dependencyHint('postgres', config.DATABASE_URL)),
);
const redis = redisTarget({ url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES });
const probe = createRedis(redis, 'worker', 'conveyor-probe');
probe.on('error', () => {});
await withTimeout(probe.ping(), 3_000, 'redis').catch(() =>
  log.error(dependencyHint('redis', describeRedisTarget(redis))),
);
probe.disconnect();

const runtime = await startWorkerRuntime({
  db,
  log,
  store: createLocalDiskStore(config.STORAGE_DIR),
  handlerSettings: {
    fileRetentionMs: config.FILE_RETENTION_HOURS * 3_600_000,
    email: {
      url: config.SMTP_URL,
      from: config.SMTP_FROM,
      messageIdDomain: config.SMTP_MESSAGE_ID_DOMAIN,
      poolSize: config.SMTP_POOL_SIZE,
      connectionTimeoutMs: config.SMTP_CONNECTION_TIMEOUT_MS,
      greetingTimeoutMs: config.SMTP_GREETING_TIMEOUT_MS,
      socketTimeoutMs: config.SMTP_SOCKET_TIMEOUT_MS,
    },
    image: {
      fetchAllowlist: config.FETCH_ALLOWLIST,
      fetchMaxBytes: config.FETCH_MAX_BYTES,
      fetchTimeoutMs: config.FETCH_TIMEOUT_MS,
      maxPixels: config.IMAGE_MAX_PIXELS,
    },
  },
  fileSweepIntervalMs: config.FILE_SWEEP_INTERVAL_MS,
  redisUrl: redis,
  prefix: config.QUEUE_PREFIX,
  queues: config.WORKER_QUEUES,
  concurrency: config.concurrency,
  lockDurationMs: config.WORKER_LOCK_DURATION_MS,
  stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
  dbOutageRetryMs: config.WORKER_DB_OUTAGE_RETRY_MS,
  cancelPollMs: config.WORKER_CANCEL_POLL_MS,
  reconcile: { intervalMs: config.RECONCILE_INTERVAL_MS, graceMs: config.RECONCILE_GRACE_MS },
  ...(config.WORKER_METRICS_PORT === 0
    ? {}
    : { metricsServer: { port: config.WORKER_METRICS_PORT, host: config.WORKER_METRICS_HOST } }),
  heartbeatIntervalMs: config.WORKER_HEARTBEAT_INTERVAL_MS,
  webhooks: {
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: config.WEBHOOK_RETRY_MAX_MS,
    recoveryWindowMs: config.WEBHOOK_RECOVERY_WINDOW_MS,
    allowlist: config.FETCH_ALLOWLIST,
  },
});

onShutdownSignals(log, config.WORKER_SHUTDOWN_GRACE_MS + 15_000, async () => {
  await runtime.close(config.WORKER_SHUTDOWN_GRACE_MS);
  await closeDb();
});
