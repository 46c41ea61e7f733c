import { createApiKey, createTenant } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { createProducer, type Producer } from '@conveyor/queue';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import { createLogger, type JobView, type Problem, SCOPES, uuidv7 } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, createApp } from '../app';
import { testStore } from '../test-support';

/** GET /v1/jobs/{id} (ETag, fields, tenant-blind 404s) and GET /v1/jobs/{id}/events. */

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = testPrefix();
let db: TestDatabase;
let producer: Producer;
let app: App;
let key: string;
let tenantId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  producer = createProducer({ redisUrl: REDIS_URL, prefix });
  app = createApp({
    store: testStore,
    db: db.db,
    producer,
    log: createLogger({ name: 'test', level: 'silent' }),
    authCacheTtlMs: 0,
  });
  ({ tenantId, key } = await newTenant());
  await vi.waitUntil(() => producer.redis.status === 'ready', { timeout: 5_000 });
});

afterAll(async () => {
  await producer?.close();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

async function newTenant() {
  const tenant = await createTenant(db.db, 'jobs-get-test');
  const created = await createApiKey(db.db, { tenantId: tenant.id, scopes: [...SCOPES] });
  return { tenantId: tenant.id, key: created.key };
}

async function call(
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string>; as?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${init.as ?? key}` };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  return app.request(path, { method, headers: { ...headers, ...init.headers }, body });
}

async function submit(body: unknown, as?: string): Promise<JobView> {
  const res = await call('POST', '/v1/jobs', { body, ...(as ? { as } : {}) });
  expect(res.status).toBe(202);
  return (await res.json()) as JobView;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('GET /v1/jobs/{id}', () => {
  it('answers the job with an ETag; If-None-Match with that tag answers 304 with no body', async () => {
    const job = await submit({ type: 'noop', payload: { echo: 'etag' } });
    const res = await call('GET', `/v1/jobs/${job.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(job);
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);

    const again = await call('GET', `/v1/jobs/${job.id}`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('x-request-id')).toBeTruthy();

    const weak = await call('GET', `/v1/jobs/${job.id}`, {
      headers: { 'if-none-match': `"nope", W/${etag}` },
    });
    expect(weak.status).toBe(304);
  });

  it('answers 200 with a new ETag once the job has changed', async () => {
    const job = await submit({ type: 'noop' });
    const first = await call('GET', `/v1/jobs/${job.id}`);
    const etag = first.headers.get('etag')!;
    expect((await call('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    const res = await call('GET', `/v1/jobs/${job.id}`, { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(etag);
    expect(((await res.json()) as JobView).status).toBe('canceled');
  });

  it('answers only the fields named in fields= (plus id)', async () => {
    const job = await submit({ type: 'noop' });
    const res = await call('GET', `/v1/jobs/${job.id}?fields=status,attempts`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: job.id, status: 'queued', attempts: 0 });
  });

  it.each(['colour', 'status,colour', '', 'status,'])(
    'answers 400 invalid_parameter for fields=%j',
    async (f) => {
      const job = await submit({ type: 'noop' });
      const res = await call('GET', `/v1/jobs/${job.id}?fields=${f}`);
      expect(res.status).toBe(400);
      const problem = (await res.json()) as Problem;
      expect(problem.code).toBe('invalid_parameter');
      expect(problem.errors?.[0]?.path).toBe('fields');
    },
  );

  it('keeps the tenant id out of the job answer', async () => {
    const job = await submit({ type: 'noop' });
    const text = await (await call('GET', `/v1/jobs/${job.id}`)).text();
    expect(text).not.toContain(tenantId);
  });

  it('finds a job by its id written in upper case', async () => {
    const job = await submit({ type: 'noop' });
    const res = await call('GET', `/v1/jobs/${job.id.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobView).id).toBe(job.id);
  });

  it("answers another tenant's job, a random id and a malformed id with the same 404", async () => {
    const other = await newTenant();
    const theirs = await submit({ type: 'noop' }, other.key);
    const ids = [theirs.id, uuidv7(), 'not-a-uuid'];
    const routes: Array<(id: string) => [string, string]> = [
      (id) => ['GET', `/v1/jobs/${id}`],
      (id) => ['GET', `/v1/jobs/${id}/events`],
      (id) => ['POST', `/v1/jobs/${id}/cancel`],
      (id) => ['POST', `/v1/jobs/${id}/retry`],
    ];
    for (const route of routes) {
      const bodies: unknown[] = [];
      for (const id of ids) {
        const [method, path] = route(id);
        const res = await call(method, path);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const { requestId, ...rest } = (await res.json()) as Problem;
        expect(requestId).toBe(res.headers.get('x-request-id'));
        bodies.push(rest);
      }
      expect(bodies[0]).toMatchObject({ status: 404, code: 'not_found' });
      expect(bodies[1]).toEqual(bodies[0]);
      expect(bodies[2]).toEqual(bodies[0]);
    }
    // The other tenant's job is untouched by our cancel and retry attempts.
    const mine = await call('GET', `/v1/jobs/${theirs.id}`, { as: other.key });
    expect(((await mine.json()) as JobView).status).toBe('queued');
  });
});

describe('GET /v1/jobs/{id}/events', () => {
  it('starts the timeline with the queued event carrying runAt and maxAttempts', async () => {
    const job = await submit({ type: 'noop', options: { maxAttempts: 4 } });
    const res = await call('GET', `/v1/jobs/${job.id}/events`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as {
      data: { at: string; type: string; data: Record<string, unknown> }[];
    };
    expect(data).toHaveLength(1);
    expect(data[0]!.type).toBe('queued');
    expect(data[0]!.at).toMatch(ISO_UTC);
    expect(data[0]!.data.maxAttempts).toBe(4);
    expect(new Date(data[0]!.data.runAt as string).toISOString()).toBe(job.runAt);
  });

  it('lists later events after the queued one, oldest first', async () => {
    const job = await submit({ type: 'noop' });
    await call('POST', `/v1/jobs/${job.id}/cancel`);
    const res = await call('GET', `/v1/jobs/${job.id}/events`);
    const { data } = (await res.json()) as { data: { at: string; type: string }[] };
    expect(data.map((e) => e.type)).toEqual(['queued', 'canceled']);
    expect(new Date(data[1]!.at).getTime()).toBeGreaterThanOrEqual(new Date(data[0]!.at).getTime());
  });

  it("answers 404 for another tenant's job", async () => {
    const other = await newTenant();
    const theirs = await submit({ type: 'noop' }, other.key);
    const res = await call('GET', `/v1/jobs/${theirs.id}/events`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as Problem).code).toBe('not_found');
  });
});
