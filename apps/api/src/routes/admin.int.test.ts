import { findTenant } from '@conveyor/db';
import { type JobView, type Problem, SCOPES, uuidv7 } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import type { App } from '../app';
import { problemWithoutRequestId, send, useTestApp } from '../test-support';

/** /v1/admin: tenants and API keys behind ADMIN_TOKEN. */

const ADMIN_TOKEN = 'admin-token-for-tests-0123';
const api = useTestApp({ adminToken: ADMIN_TOKEN });

/** An admin request; an empty token sends no Authorization. */
const admin = (method: string, path: string, body?: unknown, token = ADMIN_TOKEN, target?: App) =>
  send(target ?? api.app, method, path, { body, key: token });

const withKey = (key: string, method: string, path: string, body?: unknown) =>
  api.call(method, path, { key, body });

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

describe('admin API', () => {
  it('does not exist without ADMIN_TOKEN: every admin route answers exactly like an unknown route', async () => {
    const closed = api.build({ adminToken: undefined });
    const unknown = await problemWithoutRequestId(await closed.request('/v1/no-such-route'));
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
      expect(await problemWithoutRequestId(res)).toEqual(unknown);
    }
  });

  it('answers a missing or wrong token, and a tenant API key, with 401 unauthenticated', async () => {
    const { key } = await api.newTenant(SCOPES, 'not-admin');
    for (const token of ['', 'wrong-token-0123456789', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), key]) {
      const res = await admin('POST', '/v1/admin/tenants', { name: 'intruder' }, token);
      expect(res.status, token).toBe(401);
      expect(((await res.json()) as Problem).code).toBe('unauthenticated');
    }
    const raw = await api.call('POST', '/v1/admin/tenants', {
      body: { name: 'no scheme' },
      headers: { authorization: ADMIN_TOKEN },
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
    expect(await findTenant(api.db, body.id!)).toMatchObject({ name: 'Globex' });
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
    const res = await api.call('POST', '/v1/admin/tenants', {
      key: ADMIN_TOKEN,
      raw: '{"name":"x"}',
      headers: { 'content-type': 'text/plain' },
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
