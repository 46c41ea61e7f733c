import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, createApp, createJobWatch, type JobWatch } from '@conveyor/api';
import { createApiKey, createTenant, type JobRow } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { createProducer, type Producer, type RedisTarget, subscribeJobChanges } from '@conveyor/queue';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import {
  createLogger,
  type JobView,
  type Logger,
  type LoggerOptions,
  queueNames,
  SCHEDULES_QUEUE,
  SCOPES,
  type Scope,
  WEBHOOKS_QUEUE,
} from '@conveyor/shared';
import { type BlobStore, createLocalDiskStore } from '@conveyor/storage';
import { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from '@conveyor/worker';
import { REDIS_URL } from './env';
import { waitFor } from './wait';

/**
 * What `startWorker` passes as `handlerSettings`; a test that needs other values spreads this and overrides.
 * The SMTP URL points at a port nothing listens on: a test that sends mail runs its own server.
 */
export const testHandlerSettings: WorkerRuntimeOptions['handlerSettings'] = {
  fileRetentionMs: 3_600_000,
  email: {
    url: 'smtp://127.0.0.1:1?ignoreTLS=true',
    from: 'Conveyor Tests <noreply@conveyor.test>',
    messageIdDomain: 'conveyor.test',
    poolSize: 2,
    connectionTimeoutMs: 2_000,
    greetingTimeoutMs: 2_000,
    socketTimeoutMs: 5_000,
  },
  // The worker's defaults: no URL may reach a local address; a test serving images spreads and allowlists.
  image: {
    fetchAllowlist: [],
    fetchMaxBytes: 20 * 1024 * 1024,
    fetchTimeoutMs: 30_000,
    maxPixels: 40_000_000,
  },
};

/**
 * The whole system in one test process: a fresh database, a key prefix of its own, the real API app
 * (driven through app.request) and real worker runtimes. Nothing is mocked.
 */
export interface Harness {
  db: TestDatabase;
  prefix: string;
  store: BlobStore;
  storageDir: string;
  /** The single server's URL; throws on a harness over a Redis Cluster (use `redis`). */
  redisUrl: string;
  /** What the harness connects to: `redisUrl`, or a Redis Cluster's seed nodes. */
  redis: RedisTarget;
  producer: Producer;
  app: App;
  log: Logger;
  tenantId: string;
  key: string;
  newTenant(scopes?: Scope[]): Promise<{ tenantId: string; key: string }>;
  request(
    method: string,
    path: string,
    init?: { body?: unknown; headers?: Record<string, string>; key?: string },
  ): Promise<Response>;
  /** POST /v1/jobs; asserts nothing, returns the parsed body and the response. */
  submit(body: unknown, headers?: Record<string, string>): Promise<{ res: Response; job: JobView }>;
  getJob(id: string, key?: string): Promise<JobView>;
  waitForStatus(id: string, statuses: string[], timeoutMs?: number): Promise<JobView>;
  events(id: string): Promise<{ at: string; type: string; data: Record<string, unknown> }[]>;
  row(id: string): Promise<JobRow>;
  startWorker(overrides?: Partial<WorkerRuntimeOptions>): Promise<WorkerRuntime>;
  /** Another API instance, as behind a load balancer. */
  newApp(): App;
  close(): Promise<void>;
}

export async function createHarness(
  options: { redisUrl?: RedisTarget; logDestination?: LoggerOptions['destination'] } = {},
): Promise<Harness> {
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const singleUrl = () => {
    if (typeof redisUrl !== 'string') throw new Error('this harness runs on a Redis Cluster: use h.redis');
    return redisUrl;
  };
  const db = await createTestDatabase();
  const prefix = testPrefix();
  // A test that captures logs passes a destination; it then sees every level, whatever TEST_LOG_LEVEL says.
  const log = options.logDestination
    ? createLogger({ name: 'test', level: 'trace', destination: options.logDestination })
    : createLogger({ name: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const producer = createProducer({ redisUrl, prefix });
  const storageDir = mkdtempSync(join(tmpdir(), 'cvt-storage-'));
  const store = createLocalDiskStore(storageDir);
  const watches: JobWatch[] = [];
  /** An API instance of its own (its own change subscription), on the shared database, Redis and storage. */
  const newApp = () => {
    const watch = createJobWatch((onChange) => subscribeJobChanges(redisUrl, prefix, onChange));
    watches.push(watch);
    return createApp({ db: db.db, producer, log, store, watch, authCacheTtlMs: 0 });
  };
  const watch = createJobWatch((onChange) => subscribeJobChanges(redisUrl, prefix, onChange));
  watches.push(watch);
  const app = createApp({
    db: db.db,
    producer,
    log,
    store,
    watch,
    adminToken: 'test-admin-token-0123456789',
    authCacheTtlMs: 0,
  });
  const workers: WorkerRuntime[] = [];

  const newTenant = async (scopes: Scope[] = [...SCOPES]) => {
    const tenant = await createTenant(db.db, `tenant-${Math.random().toString(36).slice(2, 8)}`);
    const { key } = await createApiKey(db.db, { tenantId: tenant.id, scopes });
    return { tenantId: tenant.id, key };
  };
  const main = await newTenant();

  const request: Harness['request'] = (method, path, init = {}) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${init.key ?? main.key}`,
      ...init.headers,
    };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    return Promise.resolve(app.request(path, { method, headers, body }));
  };

  const getJob = async (id: string, key?: string) => {
    const res = await request('GET', `/v1/jobs/${id}`, key ? { key } : {});
    if (res.status !== 200) throw new Error(`GET job ${id}: ${res.status} ${await res.text()}`);
    return (await res.json()) as JobView;
  };

  // Wait for the producer's connection so the first submit is not answered before Redis is ready.
  await waitFor('producer connection', () => producer.redis.status === 'ready', 10_000, 20).catch(
    () => undefined,
  );

  return {
    db,
    prefix,
    store,
    storageDir,
    get redisUrl() {
      return singleUrl();
    },
    redis: redisUrl,
    producer,
    app,
    log,
    tenantId: main.tenantId,
    key: main.key,
    newTenant,
    newApp,
    request,
    async submit(body, headers) {
      const res = await request('POST', '/v1/jobs', { body, ...(headers ? { headers } : {}) });
      return { res, job: (await res.clone().json()) as JobView };
    },
    getJob,
    waitForStatus: (id, statuses, timeoutMs = 20_000) =>
      waitFor(
        `job ${id} to reach ${statuses.join('|')}`,
        async () => {
          const job = await getJob(id);
          return statuses.includes(job.status) ? job : undefined;
        },
        timeoutMs,
      ),
    async events(id) {
      const res = await request('GET', `/v1/jobs/${id}/events`);
      return ((await res.json()) as { data: { at: string; type: string; data: Record<string, unknown> }[] })
        .data;
    },
    async row(id) {
      const { findJob } = await import('@conveyor/db');
      const row = await findJob(db.db, main.tenantId, id);
      if (!row) throw new Error(`no row ${id}`);
      return row;
    },
    async startWorker(overrides = {}) {
      const runtime = await startWorkerRuntime({
        db: db.db,
        log,
        redisUrl,
        prefix,
        queues: [...queueNames, SCHEDULES_QUEUE, WEBHOOKS_QUEUE],
        concurrency: Object.fromEntries([...queueNames, SCHEDULES_QUEUE, WEBHOOKS_QUEUE].map((q) => [q, 4])),
        lockDurationMs: 5_000,
        stalledIntervalMs: 2_000,
        dbOutageRetryMs: 2_000,
        cancelPollMs: 500,
        reconcile: { intervalMs: 500, graceMs: 1_000 },
        store,
        handlerSettings: testHandlerSettings,
        fileSweepIntervalMs: false,
        ...overrides,
      });
      workers.push(runtime);
      return runtime;
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.close(2_000)));
      for (const w of watches) w.close();
      await producer.close();
      await deletePrefix(redisUrl, prefix).catch(() => undefined);
      await db.drop();
      rmSync(storageDir, { recursive: true, force: true });
    },
  };
}
