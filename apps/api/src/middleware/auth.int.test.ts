import { revokeApiKey } from '@conveyor/db';
import { generateApiKey, type JobView, type Problem, SCOPES, type Scope } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import type { App } from '../app';
import { problemWithoutRequestId, send, useTestApp } from '../test-support';

/** API keys on /v1/jobs: one identical 401 for every bad key, 403 for a missing scope. */

const api = useTestApp();

const keyWith = (scopes: readonly Scope[] = SCOPES, tenant?: string) =>
  api.newKey(tenant ?? api.tenant.tenantId, scopes);

const asAuth = (authorization: string | undefined, method = 'GET', path = '/v1/jobs', target?: App) =>
  send(target ?? api.app, method, path, {
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
    },
    ...(method === 'POST' && path === '/v1/jobs' ? { body: { type: 'noop' } } : {}),
  });

/** A 401 body without its per-request id, plus the headers a client sees. */
async function unauthenticated(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  return problemWithoutRequestId(res);
}

describe('API key authentication', () => {
  it('lets a valid key in (the control for the 401 cases)', async () => {
    const { key } = await keyWith();
    expect((await asAuth(`Bearer ${key}`)).status).toBe(200);
    expect((await asAuth(`Bearer ${key}`, 'POST')).status).toBe(202);
  });

  it('accepts the Bearer scheme in any case', async () => {
    const { key } = await keyWith();
    expect((await asAuth(`bearer ${key}`)).status).toBe(200);
    expect((await asAuth(`BEARER ${key}`)).status).toBe(200);
  });

  it('answers no key, a malformed key, an unknown key and a revoked key with one identical 401', async () => {
    const revoked = await keyWith();
    expect((await asAuth(`Bearer ${revoked.key}`)).status).toBe(200);
    expect(await revokeApiKey(api.db, revoked.id)).toBe(true);
    const valid = await keyWith();
    const unknown = generateApiKey().key;
    const cases: Record<string, string | undefined> = {
      'no header': undefined,
      'empty header': '',
      'scheme only': 'Bearer',
      'another scheme': `Basic ${Buffer.from('user:pass').toString('base64')}`,
      'key without scheme': valid.key,
      'malformed key': 'Bearer not-a-key',
      'truncated key': `Bearer ${valid.key.slice(0, -1)}`,
      'two tokens': `Bearer ${valid.key} extra`,
      'unknown well-formed key': `Bearer ${unknown}`,
      'valid prefix, wrong secret': `Bearer ${valid.key.slice(0, -4)}AAAA`,
      'revoked key': `Bearer ${revoked.key}`,
    };
    const bodies = new Map<string, unknown>();
    for (const [name, header] of Object.entries(cases)) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await asAuth(header, method);
        expect(res.status, `${name} ${method}`).toBe(401);
        bodies.set(`${name} ${method}`, await unauthenticated(res));
      }
    }
    const reference = bodies.get('no header GET');
    expect(reference).toMatchObject({ status: 401, code: 'unauthenticated' });
    for (const [name, body] of bodies) expect(body, name).toEqual(reference);
  });

  it('guards every /v1/jobs route', async () => {
    const id = '0190a6e2-0000-7000-8000-000000000000';
    const routes: Array<[string, string]> = [
      ['GET', '/v1/jobs'],
      ['POST', '/v1/jobs'],
      ['GET', `/v1/jobs/${id}`],
      ['GET', `/v1/jobs/${id}/events`],
      ['POST', `/v1/jobs/${id}/cancel`],
      ['POST', `/v1/jobs/${id}/retry`],
    ];
    for (const [method, path] of routes) {
      const res = await asAuth(undefined, method, path);
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it('answers 403 forbidden to a key without jobs:write on every write, and writes nothing', async () => {
    const { tenantId: own, key: reader } = await api.newTenant(['jobs:read'], 'read-only');
    const { key: writer } = await keyWith(['jobs:write'], own);
    const created = await asAuth(`Bearer ${writer}`, 'POST');
    const job = (await created.json()) as JobView;
    for (const path of ['/v1/jobs', `/v1/jobs/${job.id}/cancel`, `/v1/jobs/${job.id}/retry`]) {
      const res = await asAuth(`Bearer ${reader}`, 'POST', path);
      expect(res.status, path).toBe(403);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as Problem;
      expect(problem.code).toBe('forbidden');
      expect(problem.detail).toContain('jobs:write');
    }
    const list = await asAuth(`Bearer ${reader}`);
    expect(((await list.json()) as { data: JobView[] }).data.map((j) => j.id)).toEqual([job.id]);
    const still = await asAuth(`Bearer ${reader}`, 'GET', `/v1/jobs/${job.id}`);
    expect(((await still.json()) as JobView).status).toBe('queued');
  });

  it('answers 403 forbidden to a key without jobs:read on every read', async () => {
    const { key: writer } = await keyWith(['jobs:write']);
    const job = (await (await asAuth(`Bearer ${writer}`, 'POST')).json()) as JobView;
    for (const path of ['/v1/jobs', `/v1/jobs/${job.id}`, `/v1/jobs/${job.id}/events`]) {
      const res = await asAuth(`Bearer ${writer}`, 'GET', path);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as Problem).code).toBe('forbidden');
    }
  });

  it('rejects a revoked key at once when the auth cache is off', async () => {
    const { key, id } = await keyWith();
    expect((await asAuth(`Bearer ${key}`)).status).toBe(200);
    await revokeApiKey(api.db, id);
    expect((await asAuth(`Bearer ${key}`)).status).toBe(401);
  });

  it('trusts a verified key for authCacheTtlMs, then checks it again', async () => {
    const cached = api.build({ authCacheTtlMs: 300 });
    const { key, id } = await keyWith();
    expect((await asAuth(`Bearer ${key}`, 'GET', '/v1/jobs', cached)).status).toBe(200);
    await revokeApiKey(api.db, id);
    // Within the TTL the verified key is served from memory (no database read per request)...
    expect((await asAuth(`Bearer ${key}`, 'GET', '/v1/jobs', cached)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 350));
    // ...and once it has passed, the revocation is seen.
    expect((await asAuth(`Bearer ${key}`, 'GET', '/v1/jobs', cached)).status).toBe(401);
  });
});
