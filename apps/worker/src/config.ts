import { isRedisNodeAddress } from '@conveyor/queue';
import {
  envInt,
  envLogLevel,
  envString,
  envUrl,
  parseEnv,
  parseMailbox,
  splitList,
  type WorkerQueueName,
  workerQueueNames,
} from '@conveyor/shared';
import { z } from 'zod';
import { invalidAllowlistEntries } from './fetch/allowlist';

const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

const queueEnvName = (queue: string) =>
  `WORKER_CONCURRENCY_${queue.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

const schema = z.object({
  DATABASE_URL: envUrl('postgres://postgres@127.0.0.1:5432/conveyor', ['postgres:', 'postgresql:']),
  REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  /** Seed nodes of a Redis Cluster (host:port or redis[s]://[user:pass@]host:port, comma-separated); set = REDIS_URL unused. */
  REDIS_CLUSTER_NODES: envString('')
    .transform(splitList)
    .refine(
      (nodes) => nodes.every(isRedisNodeAddress),
      'must be host:port or redis[s]:// URLs, comma-separated',
    ),
  QUEUE_PREFIX: envString('{conveyor}').refine(
    (v) => /^\{[A-Za-z0-9_.-]+\}$/.test(v),
    'must look like {name}',
  ),
  LOG_LEVEL: envLogLevel(),
  // Checked per field (not on the whole object) so an unknown queue is reported with the other problems.
  // `schedules` (the firings of cron schedules) is served by default like the catalog's queues.
  WORKER_QUEUES: envString(workerQueueNames.join(','))
    .transform(splitList)
    .superRefine((queues, ctx) => {
      for (const queue of queues.filter((q) => !(workerQueueNames as readonly string[]).includes(q))) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown queue "${queue}" (known: ${workerQueueNames.join(', ')})`,
        });
      }
    }),
  WORKER_CONCURRENCY: envInt(5, 1, 1000),
  WORKER_LOCK_DURATION_MS: envInt(30_000, 1_000),
  WORKER_STALLED_INTERVAL_MS: envInt(30_000, 1_000),
  WORKER_SHUTDOWN_GRACE_MS: envInt(25_000, 0),
  WORKER_DB_POOL_SIZE: envInt(10, 1, 100),
  WORKER_DB_OUTAGE_RETRY_MS: envInt(30_000, 0),
  WORKER_CANCEL_POLL_MS: envInt(5_000, 100),
  /** Port of the worker's Prometheus endpoint (GET /metrics); 0 = off. */
  WORKER_METRICS_PORT: envInt(9464, 0, 65_535),
  WORKER_METRICS_HOST: envString('0.0.0.0'),
  /** How often the worker writes its heartbeat (fleet view in GET /v1/queues), in ms. */
  WORKER_HEARTBEAT_INTERVAL_MS: envInt(5_000, 500, 60_000),
  STORAGE_DIR: envString('.data/storage'),
  FILE_RETENTION_HOURS: envInt(168, 1),
  FILE_SWEEP_INTERVAL_MS: envInt(3_600_000, 1_000),
  RECONCILE_INTERVAL_MS: envInt(30_000, 100),
  RECONCILE_GRACE_MS: envInt(60_000, 0),
  // image.resize: source URLs may not reach loopback, private, link-local or metadata addresses except
  // through these comma-separated hosts or CIDRs (local testing, trusted internal image servers).
  FETCH_ALLOWLIST: envString('')
    .transform(splitList)
    .superRefine((entries, ctx) => {
      for (const entry of invalidAllowlistEntries(entries))
        ctx.addIssue({ code: 'custom', message: `"${entry}" is neither a host name nor an IP address/CIDR` });
    }),
  FETCH_MAX_BYTES: envInt(20 * 1024 * 1024, 1_024),
  FETCH_TIMEOUT_MS: envInt(30_000, 100),
  IMAGE_MAX_PIXELS: envInt(40_000_000, 1, 268_402_689),
  // Webhooks: URLs pass the same address policy as image URLs (FETCH_ALLOWLIST). Defaults: 8 attempts, the
  // next one 30 s, 1 min, 2 min … later (capped at 30 min, equal jitter), so about an hour in all.
  WEBHOOK_MAX_ATTEMPTS: envInt(8, 1, 50),
  WEBHOOK_TIMEOUT_MS: envInt(10_000, 100, 300_000),
  WEBHOOK_RETRY_BASE_MS: envInt(30_000, 10),
  WEBHOOK_RETRY_MAX_MS: envInt(1_800_000, 10),
  WEBHOOK_RECOVERY_WINDOW_MS: envInt(86_400_000, 0),
  // email.send: a local catcher (Mailpit, MailHog) listens on 1025; production sets its relay here.
  SMTP_URL: envUrl('smtp://127.0.0.1:1025', ['smtp:', 'smtps:']),
  SMTP_FROM: envString('noreply@conveyor.local').refine(
    (v) => parseMailbox(v) !== undefined,
    'must be an email address or "Name <address>"',
  ),
  SMTP_MESSAGE_ID_DOMAIN: envString('conveyor.local').refine(
    (v) => v.length <= 253 && v.split('.').every((label) => DNS_LABEL.test(label)),
    'must be a domain name such as mail.example.com',
  ),
  SMTP_POOL_SIZE: envInt(5, 1, 100),
  SMTP_CONNECTION_TIMEOUT_MS: envInt(10_000, 100),
  SMTP_GREETING_TIMEOUT_MS: envInt(10_000, 100),
  SMTP_SOCKET_TIMEOUT_MS: envInt(30_000, 100),
});

export type WorkerConfig = Omit<z.infer<typeof schema>, 'WORKER_QUEUES'> & {
  WORKER_QUEUES: WorkerQueueName[];
  /** Concurrency per served queue: WORKER_CONCURRENCY_<QUEUE>, else WORKER_CONCURRENCY. */
  concurrency: Record<string, number>;
};

/** The only place the worker reads the environment. Throws ConfigError listing every problem. */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const perQueue = z.object(
    Object.fromEntries(workerQueueNames.map((q) => [queueEnvName(q), envInt(0, 0, 1000)])),
  );
  const merged = parseEnv(schema.and(perQueue), env) as z.infer<typeof schema> & Record<string, number>;
  const concurrency = Object.fromEntries(
    merged.WORKER_QUEUES.map((q) => [q, merged[queueEnvName(q)] || merged.WORKER_CONCURRENCY]),
  );
  return { ...merged, WORKER_QUEUES: merged.WORKER_QUEUES as WorkerQueueName[], concurrency };
}
