/**
 * Conveyor as the bench runs it: a scratch database (migrated, dropped at the end), a Redis prefix of its
 * own (deleted at the end), a tenant with a key, the production API bundle, and worker processes on demand.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { countActiveJobs, countJobsForReport, createApiKey, createTenant } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { createRedis } from '@conveyor/queue';
import { benchConfig } from '../config';
import { freePort, httpOk, onCleanup, type Proc, startApp, waitUntil } from './procs';

export interface Stack {
  label: string;
  database: TestDatabase;
  prefix: string;
  tenantId: string;
  key: string;
  api: Proc;
  apiUrl: string;
  authHeaders: Record<string, string>;
  startedAt: Date;
}

const storageDir = join(tmpdir(), `conveyor-bench-${process.pid}`);

/** Deletes every key under a prefix (BullMQ queues, caches, heartbeats) with SCAN + UNLINK. */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = createRedis(benchConfig.redisUrl, 'worker', 'conveyor-bench-cleanup');
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A scratch database on the bench's Postgres server, dropped when the bench ends. */
export async function scratchDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase(benchConfig.postgresUrl);
  onCleanup(() => database.drop());
  return database;
}

export async function startStack(label: string): Promise<Stack> {
  const database = await scratchDatabase();
  const prefix = `{bench-${label}-${process.pid}}`;
  onCleanup(() => deletePrefix(prefix));
  const tenant = await createTenant(database.db, `bench-${label}`);
  const { key } = await createApiKey(database.db, {
    tenantId: tenant.id,
    scopes: ['jobs:read', 'jobs:write'],
  });
  const port = await freePort();
  const api = startApp('api', `api-${label}`, {
    DATABASE_URL: database.url,
    REDIS_URL: benchConfig.redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    STORAGE_DIR: storageDir,
    // One key submits as fast as it can; the per-key rate limit would shape what is measured.
    RATE_LIMIT_POINTS: '0',
  });
  const apiUrl = `http://127.0.0.1:${port}`;
  await waitUntil('the API to be ready', httpOk(`${apiUrl}/health/ready`));
  return {
    label,
    database,
    prefix,
    tenantId: tenant.id,
    key,
    api,
    apiUrl,
    authHeaders: { authorization: `Bearer ${key}` },
    startedAt: new Date(),
  };
}

export function startWorker(stack: Stack, name: string): Proc {
  return startApp('worker', name, {
    DATABASE_URL: stack.database.url,
    REDIS_URL: benchConfig.redisUrl,
    QUEUE_PREFIX: stack.prefix,
    LOG_LEVEL: 'warn',
    WORKER_QUEUES: 'default',
    WORKER_CONCURRENCY: String(benchConfig.workerConcurrency),
    // Several workers run at once, and other processes on the machine may hold the default port.
    WORKER_METRICS_PORT: '0',
    STORAGE_DIR: storageDir,
  });
}

export const noopJob = { type: 'noop', payload: {} };

/** Submits `n` noop jobs through POST /v1/jobs/batch, 1,000 at a time. */
export async function submitBatches(stack: Stack, n: number): Promise<void> {
  for (let sent = 0; sent < n; sent += benchConfig.batchSize) {
    const size = Math.min(benchConfig.batchSize, n - sent);
    const res = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
      method: 'POST',
      headers: { ...stack.authHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ jobs: Array.from({ length: size }, () => noopJob) }),
    });
    if (res.status !== 202) throw new Error(`batch submit: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
}

export const activeJobs = (stack: Stack) => countActiveJobs(stack.database.db, stack.tenantId);

export async function statusCounts(stack: Stack): Promise<Record<string, number>> {
  const counts = await countJobsForReport(stack.database.db, {
    tenantId: stack.tenantId,
    from: new Date(stack.startedAt.getTime() - 60_000),
    to: new Date(Date.now() + 60_000),
  });
  return counts.byStatus;
}

/** Submits one noop job and waits until it has succeeded (workers warm, connections open). */
export async function warmUp(stack: Stack): Promise<void> {
  const res = await fetch(`${stack.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { ...stack.authHeaders, 'content-type': 'application/json' },
    body: JSON.stringify(noopJob),
  });
  const { id } = (await res.json()) as { id: string };
  await waitUntil(
    'a warm-up job to succeed',
    async () => {
      const job = await fetch(`${stack.apiUrl}/v1/jobs/${id}`, { headers: stack.authHeaders });
      return ((await job.json()) as { status: string }).status === 'succeeded';
    },
    60_000,
    50,
  );
  await sleep(200);
}
