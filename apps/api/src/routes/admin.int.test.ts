import { createApiKey, createTenant, findTenant } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { createProducer, type Producer } from '@conveyor/queue';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import { createLogger, type JobView, type Problem, SCOPES, uuidv7 } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, createApp } from '../app';
import { testStore } from '../test-support';

/** /v1/admin: tenants and API keys behind ADMIN_TOKEN. */

const REDIS_URL = 'redis://127.0.0.1:6379';
const ADMIN_TOKEN = 'admin-token-for-tests-0123';
const prefix = testPrefix();
const log = createLogger({ name: 'test', level: 'silent' });
let db: TestDatabase;
let producer: Producer;
let app: App;

beforeAll(async () => {
  db = await createTestDatabase();
  producer = createProducer({ redisUrl: REDIS_URL, prefix });
  app = createApp({ store: testStore, db: db.db, producer, log, adminToken: ADMIN_TOKEN, authCacheTtlMs: 0 });
  await vi.waitUntil(() => producer.redis.status === 'ready', { timeout: 5_000 });
});

afterAll(async () => {
  await producer?.close();
  await deletePrefix(REDIS_URL, prefix);
  await db?.drop();
});

const admin = (method: string, path: string, body?: unknown, token = ADMIN_TOKEN, target: App = app) =>
  target.request(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

const withKey = (key: string, method: string, path: string, body?: unknown) =>
  app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function newTenant(name = 'Acme'): Promise<{ id: string; name: string; createdAt: string }> {
  const res = await admin('POST', '/v1/admin/tenants', { name });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; name: string; createdAt: string };
}

interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  scopes: string[];
}

async function newKey(tenantId: string, body: unknown = {}): Promise<CreatedKey> {
  const res = await admin('POST', `/v1/admin/tenants/${tenantId}/api-keys`, body);
  expect(res.status).toBe(201);
  return (await res.json()) as CreatedKey;
}

const withoutRequestId = async (res: Response) => {
  const { requestId, ...rest } = (await res.json()) as Problem;
  expect(requestId).toBe(res.headers.get('x-request-id'));
  return rest;
};

describe('admin API', () => {
  it('does not exist without ADMIN_TOKEN: every admin route answers exactly like an unknown route', async () => {
    const closed = createApp({ store: testStore, db: db.db, producer, log, authCacheTtlMs: 0 });
    const unknown = await withoutRequestId(await closed.request('/v1/no-such-route'));
    const attempts: Array<[string, string, unknown, string | undefined]> = [
      ['POST', '/v1/admin/tenants', { name: 'x' }, undefined],
      ['POST', '/v1/admin/tenants', { name: 'x' }, ADMIN_TOKEN],
      ['POST', '/v1/admin/tenants', { name: 'x' }, ''],
      ['POST', `/v1/admin/tenants/${uuidv7()}/api-keys`, {}, ADMIN_TOKEN],
      ['DELETE', `/v1/admin/api-keys/${uuidv7()}`, undefined, ADMIN_TOKEN],
    ];
    for (const [method, path, body, token] of attempts) {
      const res = await admin(method, path, body, token ?? '', closed);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await withoutRequestId(res)).toEqual(unknown);
    }
  });

  it('answers a missing or wrong token, and a tenant API key, with 401 unauthenticated', async () => {
    const tenant = await createTenant(db.db, 'not-admin');
    const { key } = await createApiKey(db.db, { tenantId: tenant.id, scopes: [...SCOPES] });
    for (const token of ['', 'wrong-token-0123456789', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), key]) {
      const res = await admin('POST', '/v1/admin/tenants', { name: 'intruder' }, token);
      expect(res.status, token).toBe(401);
      expect(((await res.json()) as Problem).code).toBe('unauthenticated');
    }
    const raw = await app.request('/v1/admin/tenants', {
      method: 'POST',
      headers: { authorization: ADMIN_TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'no scheme' }),
    });
    expect(raw.status).toBe(401);
  });

  it('creates a tenant: 201 with id, name and createdAt', async () => {
    const before = Date.now();
    const res = await admin('POST', '/v1/admin/tenants', { name: '  Globex  ' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['createdAt', 'id', 'name']);
    expect(body.name).toBe('Globex');
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Date(body.createdAt!).getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(await findTenant(db.db, body.id!)).toMatchObject({ name: 'Globex' });
  });

  it.each([
    ['no name', {}],
    ['an empty name', { name: '   ' }],
    ['an unknown key', { name: 'x', plan: 'gold' }],
    ['a name over 200 characters', { name: 'n'.repeat(201) }],
  ])('rejects a tenant with %s with 422 validation_failed', async (_, body) => {
    const res = await admin('POST', '/v1/admin/tenants', body);
    expect(res.status).toBe(422);
    expect(((await res.json()) as Problem).code).toBe('validation_failed');
  });

  it('rejects a tenant body that is not JSON (400) or not application/json (415)', async () => {
    expect((await admin('POST', '/v1/admin/tenants', '{"name":')).status).toBe(400);
    const res = await app.request('/v1/admin/tenants', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: '{"name":"x"}',
    });
    expect(res.status).toBe(415);
  });

  it('creates an API key: 201 with id, key, prefix and every scope by default, and the key works', async () => {
    const tenant = await newTenant();
    const created = await newKey(tenant.id, { name: 'ci' });
    expect(Object.keys(created).sort()).toEqual(['id', 'key', 'prefix', 'scopes']);
    expect(created.key.startsWith(`cvr_${created.prefix}_`)).toBe(true);
    expect([...created.scopes].sort()).toEqual([...SCOPES].sort());

    const submitted = await withKey(created.key, 'POST', '/v1/jobs', { type: 'noop' });
    expect(submitted.status).toBe(202);
    const job = (await submitted.json()) as JobView;
    const list = await withKey(created.key, 'GET', '/v1/jobs');
    expect(list.status).toBe(200);
    expect(((await list.json()) as { data: JobView[] }).data.map((j) => j.id)).toEqual([job.id]);
  });

  it('creates a key with only the scopes asked for', async () => {
    const tenant = await newTenant();
    const created = await newKey(tenant.id, { scopes: ['jobs:read'] });
    expect(created.scopes).toEqual(['jobs:read']);
    expect((await withKey(created.key, 'GET', '/v1/jobs')).status).toBe(200);
    expect((await withKey(created.key, 'POST', '/v1/jobs', { type: 'noop' })).status).toBe(403);
  });

  it('gives keys of different tenants different jobs', async () => {
    const a = await newKey((await newTenant('A')).id);
    const b = await newKey((await newTenant('B')).id);
    const job = (await (await withKey(a.key, 'POST', '/v1/jobs', { type: 'noop' })).json()) as JobView;
    expect((await withKey(b.key, 'GET', `/v1/jobs/${job.id}`)).status).toBe(404);
  });

  it.each([
    ['an unknown scope', { scopes: ['jobs:delete'] }],
    ['no scopes', { scopes: [] }],
    ['an unknown key', { name: 'x', expires: 'never' }],
  ])('rejects a key with %s with 422', async (_, body) => {
    const tenant = await newTenant();
    const res = await admin('POST', `/v1/admin/tenants/${tenant.id}/api-keys`, body);
    expect(res.status).toBe(422);
    expect(((await res.json()) as Problem).code).toBe('validation_failed');
  });

  it('answers 404 for a key of an unknown or malformed tenant id', async () => {
    for (const id of [uuidv7(), 'not-a-uuid']) {
      const res = await admin('POST', `/v1/admin/tenants/${id}/api-keys`, {});
      expect(res.status, id).toBe(404);
      expect(((await res.json()) as Problem).code).toBe('not_found');
    }
  });

  it('revokes a key: 204 with no body, then the key answers 401', async () => {
    const tenant = await newTenant();
    const created = await newKey(tenant.id);
    const other = await newKey(tenant.id);
    expect((await withKey(created.key, 'GET', '/v1/jobs')).status).toBe(200);

    const res = await admin('DELETE', `/v1/admin/api-keys/${created.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    const after = await withKey(created.key, 'GET', '/v1/jobs');
    expect(after.status).toBe(401);
    expect(((await after.json()) as Problem).code).toBe('unauthenticated');
    // Only that key: the tenant's other key still works.
    expect((await withKey(other.key, 'GET', '/v1/jobs')).status).toBe(200);
  });

  it('answers 404 when revoking an unknown or malformed key id, and 401 without the token', async () => {
    expect((await admin('DELETE', `/v1/admin/api-keys/${uuidv7()}`)).status).toBe(404);
    expect((await admin('DELETE', '/v1/admin/api-keys/nope')).status).toBe(404);
    const tenant = await newTenant();
    const created = await newKey(tenant.id);
    expect(
      (await admin('DELETE', `/v1/admin/api-keys/${created.id}`, undefined, 'wrong-token-0123456789')).status,
    ).toBe(401);
    expect((await withKey(created.key, 'GET', '/v1/jobs')).status).toBe(200);
  });
});
