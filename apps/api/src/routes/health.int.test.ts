import { createApiKey, createDb, createTenant, type DbHandle, findJob } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { createProducer, type Producer } from '@conveyor/queue';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import { createLogger, type JobView, SCOPES } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../app';
import { testStore } from '../test-support';

const REDIS_URL = 'redis://127.0.0.1:6379';
/** Nothing listens on port 1: connections are refused at once, like a Redis or Postgres that is down. */
const DEAD_REDIS_URL = 'redis://127.0.0.1:1';
const log = createLogger({ name: 'test', level: 'silent' });

describe('health endpoints', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  let producer: Producer;
  let deadProducer: Producer;
  let deadDb: DbHandle;

  beforeAll(async () => {
    db = await createTestDatabase();
    producer = createProducer({ redisUrl: REDIS_URL, prefix });
    deadProducer = createProducer({ redisUrl: DEAD_REDIS_URL, prefix });
    deadDb = createDb('postgres://postgres@127.0.0.1:1/conveyor', { max: 1, connectTimeoutSeconds: 1 });
    await vi.waitUntil(() => producer.redis.status === 'ready', { timeout: 5_000 });
  });

  afterAll(async () => {
    await producer?.close();
    await deadProducer?.close();
    await deadDb?.close();
    await deletePrefix(REDIS_URL, prefix);
    await db?.drop();
  });

  const liveApp = () => createApp({ store: testStore, db: db.db, producer, log, authCacheTtlMs: 0 });

  it('answers /health/live with 200 and no auth', async () => {
    const res = await liveApp().request('/health/live');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers /health/live with 200 even when Postgres and Redis are down (it does no I/O)', async () => {
    const app = createApp({
      store: testStore,
      db: deadDb.db,
      producer: deadProducer,
      log,
      authCacheTtlMs: 0,
    });
    const res = await app.request('/health/live');
    expect(res.status).toBe(200);
  });

  it('answers /health/ready with 200 and both checks ok when Postgres and Redis are reachable', async () => {
    const res = await liveApp().request('/health/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers /health/ready with 503 problem+json and Retry-After when Redis is unreachable', async () => {
    const app = createApp({ store: testStore, db: db.db, producer: deadProducer, log, authCacheTtlMs: 0 });
    const started = Date.now();
    const res = await app.request('/health/ready');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 503,
      code: 'unavailable',
      checks: { postgres: 'ok', redis: 'unavailable' },
    });
    expect(body.type).toEqual(expect.any(String));
    expect(body.title).toEqual(expect.any(String));
    expect(body.detail).toEqual(expect.any(String));
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
    expect(JSON.stringify(body)).not.toContain('127.0.0.1');
  });

  it('answers /health/ready with 503 naming postgres when Postgres is unreachable', async () => {
    const app = createApp({ store: testStore, db: deadDb.db, producer, log, authCacheTtlMs: 0 });
    const res = await app.request('/health/ready');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'unavailable', checks: { postgres: 'unavailable', redis: 'ok' } });
  });

  it('accepts a submit with 202 while Redis is down: the job is committed in Postgres as queued', async () => {
    const tenant = await createTenant(db.db, 'redis-down');
    const { key } = await createApiKey(db.db, { tenantId: tenant.id, scopes: [...SCOPES] });
    const app = createApp({ store: testStore, db: db.db, producer: deadProducer, log, authCacheTtlMs: 0 });
    const started = Date.now();
    const res = await app.request('/v1/jobs', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'noop', payload: {} }),
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(202);
    const job = (await res.json()) as JobView;
    expect(job.status).toBe('queued');
    const row = await findJob(db.db, tenant.id, job.id);
    expect(row?.status).toBe('queued');
  });
});
