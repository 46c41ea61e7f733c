import { createDb, pingDb } from '@conveyor/db';
import {
  createProducer,
  describeRedisTarget,
  redisTarget,
  subscribeJobChanges,
  withTimeout,
} from '@conveyor/queue';
import { ConfigError, createLogger, dependencyHint, onShutdownSignals } from '@conveyor/shared';
import { createLocalDiskStore } from '@conveyor/storage';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { type ApiConfig, jwtOptions, loadApiConfig } from './config';
import { applyServerTimeouts } from './http/server-timeouts';
import { createJobWatch } from './live/job-watch';
import { createApiMetrics } from './metrics/registry';

let config: ApiConfig;
try {
  config = loadApiConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const log = createLogger({ name: 'api', level: config.LOG_LEVEL });
const { db, close: closeDb } = createDb(config.DATABASE_URL, {
  max: config.API_DB_POOL_SIZE,
  applicationName: 'conveyor-api',
});
// Read-only queries that may lag go to the replica when one is configured (docs/operations.md#read-replica).
const replica = config.DATABASE_READ_URL
  ? createDb(config.DATABASE_READ_URL, { max: config.API_DB_POOL_SIZE, applicationName: 'conveyor-api-read' })
  : undefined;
const redis = redisTarget({ url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES });
const producer = createProducer({ redisUrl: redis, prefix: config.QUEUE_PREFIX });

// Name what is missing and keep serving: reads answer 503 without Postgres; submits still commit without Redis.
await withTimeout(pingDb(db), 3_000, 'postgres').catch(() =>
  log.error(dependencyHint('postgres', config.DATABASE_URL)),
);
if (replica) {
  await withTimeout(pingDb(replica.db), 3_000, 'postgres replica').catch(() =>
    log.error(dependencyHint('postgres', config.DATABASE_READ_URL!)),
  );
}
if (producer.redis.status !== 'ready') {
  await withTimeout(new Promise((resolve) => producer.redis.once('ready', resolve)), 3_000, 'redis').catch(
    () => log.error(dependencyHint('redis', describeRedisTarget(redis))),
  );
}

const watch = createJobWatch((onChange) => subscribeJobChanges(redis, config.QUEUE_PREFIX, onChange));
const app = createApp({
  watch,
  db,
  readDb: replica?.db,
  producer,
  log,
  adminToken: config.ADMIN_TOKEN,
  metrics: createApiMetrics(),
  metricsToken: config.METRICS_TOKEN,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  authCacheTtlMs: config.AUTH_CACHE_TTL_MS,
  jwt: jwtOptions(config),
  store: createLocalDiskStore(config.STORAGE_DIR),
  uploadLimitBytes: config.UPLOAD_LIMIT_BYTES,
  fileRetentionMs: config.FILE_RETENTION_HOURS * 3_600_000,
  corsOrigins: config.CORS_ORIGINS,
  compressionMinBytes: config.COMPRESSION_MIN_BYTES,
  hstsMaxAgeS: config.HSTS_MAX_AGE_S,
  terminalJobMaxAgeS: config.TERMINAL_JOB_MAX_AGE_S,
  limits: {
    points: config.RATE_LIMIT_POINTS,
    windowSeconds: config.RATE_LIMIT_WINDOW_S,
    maxActiveJobs: config.TENANT_MAX_ACTIVE_JOBS,
    tenantCacheTtlMs: config.TENANT_LIMITS_CACHE_MS,
    authFailures: config.AUTH_FAILURE_LIMIT,
    authFailureWindowSeconds: config.AUTH_FAILURE_WINDOW_S,
    trustedProxies: config.TRUST_PROXY,
  },
});

const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  log.info({ port: info.port, host: config.HOST }, 'api listening');
});
// Keep-alive longer than common load balancers' idle timeout (60 s), so the balancer closes idle connections first.
applyServerTimeouts(server);

onShutdownSignals(log, config.API_SHUTDOWN_GRACE_MS + 5_000, async () => {
  // Stop accepting connections and let in-flight requests finish; close() resolves when they have.
  // Keep-alive connections that go idle after their last answer are closed as they do, so a client's
  // pooled socket does not hold the shutdown open.
  const sweep = setInterval(() => 'closeIdleConnections' in server && server.closeIdleConnections(), 100);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  clearInterval(sweep);
  log.debug('http server closed');
  watch.close();
  await producer.close();
  log.debug('queue producer closed');
  await closeDb();
  await replica?.close();
});
