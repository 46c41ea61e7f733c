import { createDb, type DbHandle, findJob } from '@conveyor/db';
import { createProducer, type Producer } from '@conveyor/queue';
import type { JobView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../test-support';

/** Nothing listens on port 1: connections are refused at once, like a Redis or Postgres that is down. */
const DEAD_REDIS_URL = 'redis://127.0.0.1:1';

describe('health endpoints', () => {
  const api = useTestApp();
  let deadProducer: Producer;
  let deadDb: DbHandle;

  beforeAll(() => {
    deadProducer = createProducer({ redisUrl: DEAD_REDIS_URL, prefix: api.prefix });
    deadDb = createDb('postgres://postgres@127.0.0.1:1/conveyor', { max: 1, connectTimeoutSeconds: 1 });
  });

  afterAll(async () => {
    await deadProducer?.close();
    await deadDb?.close();
  });

  const liveApp = () => api.build();

  it('answers /health/live with 200 and no auth', async () => {
    const res = await liveApp().request('/health/live');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers /health/live with 200 even when Postgres and Redis are down (it does no I/O)', async () => {
    const app = api.build({ db: deadDb.db, producer: deadProducer });
    const res = await app.request('/health/live');
    expect(res.status).toBe(200);
  });

  it('answers /health/ready with 200 and both checks ok when Postgres and Redis are reachable', async () => {
    const res = await liveApp().request('/health/ready');
    expect(res.status).toBe(200);
    // The shared Redis runs with noeviction, so there is no warning (routes/metrics.int.test.ts covers one).
    expect(await res.json()).toEqual({
      status: 'ok',
      checks: { postgres: 'ok', redis: 'ok' },
      redisMaxmemoryPolicy: 'noeviction',
    });
  });

  it('answers /health/ready with 503 problem+json and Retry-After when Redis is unreachable', async () => {
    const app = api.build({ producer: deadProducer });
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
    const app = api.build({ db: deadDb.db });
    const res = await app.request('/health/ready');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'unavailable', checks: { postgres: 'unavailable', redis: 'ok' } });
  });

  it('accepts a submit with 202 while Redis is down: the job is committed in Postgres as queued', async () => {
    const tenant = await api.newTenant();
    const app = api.build({ producer: deadProducer });
    const started = Date.now();
    const res = await tenant.call('POST', '/v1/jobs', { app, body: { type: 'noop', payload: {} } });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(202);
    const job = (await res.json()) as JobView;
    expect(job.status).toBe('queued');
    const row = await findJob(api.db, tenant.tenantId, job.id);
    expect(row?.status).toBe('queued');
  });
});
