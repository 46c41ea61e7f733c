import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { completeAttempt, startAttempt } from '@conveyor/db';
import { createProducer, type Producer } from '@conveyor/queue';
import { createLogger } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../app';
import type { AppDeps } from '../deps';
import { problemWithoutRequestId, type TestTenant, useTestApp } from '../test-support';
import type { LimitOptions } from './rate-limit';

const ADMIN_TOKEN = 'rate-limit-admin-token-0123456789';
const api = useTestApp({ adminToken: ADMIN_TOKEN });

/** An app with these limits; tenants' own limits are read fresh on every request (no cache). */
const withLimits = (limits: LimitOptions, overrides: Partial<AppDeps> = {}): App =>
  api.build({ limits: { tenantCacheTtlMs: 0, ...limits }, ...overrides });

/** `"name";r=<remaining>;t=<seconds>` parsed, or null when the header is missing or malformed. */
function rateLimitOf(res: Response, policy = 'default'): { r: number; t: number } | null {
  const match = new RegExp(`^"${policy}";r=(\\d+);t=(\\d+)$`).exec(res.headers.get('ratelimit') ?? '');
  return match ? { r: Number(match[1]), t: Number(match[2]) } : null;
}

const listAs = (app: App, tenant: TestTenant, key = tenant.key) =>
  tenant.call('GET', '/v1/jobs', { app, key });

async function expectRateLimited(res: Response) {
  expect(res.status).toBe(429);
  const retryAfter = res.headers.get('retry-after');
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  const body = await problemWithoutRequestId(res);
  expect(body).toMatchObject({ status: 429, code: 'rate_limited' });
  return { retryAfter: Number(retryAfter), detail: body.detail };
}

const setTenantLimits = (tenantId: string, body: Record<string, number | null>) =>
  api.call('PATCH', `/v1/admin/tenants/${tenantId}`, { key: ADMIN_TOKEN, body });

describe('per-key rate limit', () => {
  it('sends RateLimit-Policy and a decreasing RateLimit on every answer to a valid key, errors included', async () => {
    const app = withLimits({ points: 5, windowSeconds: 60 });
    const tenant = await api.newTenant();
    const readOnly = await api.newKey(tenant.tenantId, ['jobs:read']);

    const answers = [
      await listAs(app, tenant),
      await listAs(app, tenant),
      await tenant.call('GET', `/v1/jobs/${randomUUID()}`, { app }),
      await tenant.call('GET', '/v1/jobs?limit=0', { app }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 404, 400]);
    for (const res of answers) expect(res.headers.get('ratelimit-policy')).toBe('"default";q=5;w=60');
    expect(answers.map((r) => rateLimitOf(r)?.r)).toEqual([4, 3, 2, 1]);
    // A token comes back every 60/5 = 12 s: t is the wait for the next one.
    for (const res of answers) expect(rateLimitOf(res)?.t).toBeGreaterThanOrEqual(11);
    for (const res of answers) expect(rateLimitOf(res)?.t).toBeLessThanOrEqual(12);

    // A key without the scope is still a valid key: its 403 counts and carries the headers (its own bucket).
    const forbidden = await tenant.call('POST', '/v1/jobs', {
      app,
      key: readOnly.key,
      body: { type: 'noop' },
    });
    expect(forbidden.status).toBe(403);
    expect(rateLimitOf(forbidden)?.r).toBe(4);
  });

  it('answers 429 rate_limited problem+json with Retry-After and r=0 once the bucket is empty', async () => {
    const app = withLimits({ points: 3, windowSeconds: 60 });
    const tenant = await api.newTenant();
    for (let i = 0; i < 3; i++) expect((await listAs(app, tenant)).status).toBe(200);

    const refused = await listAs(app, tenant);
    const { retryAfter, detail } = await expectRateLimited(refused);
    // One token per 20 s; the last was taken just now.
    expect(retryAfter).toBeGreaterThanOrEqual(19);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(detail).toContain('3 requests per 60 s');
    expect(refused.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60');
    expect(rateLimitOf(refused)).toEqual({ r: 0, t: retryAfter });
    // Refused requests take nothing: still refused, still not a 5xx.
    expect((await listAs(app, tenant)).status).toBe(429);
  });

  it('refills the bucket over the window', async () => {
    const app = withLimits({ points: 2, windowSeconds: 1 });
    const tenant = await api.newTenant();
    expect((await listAs(app, tenant)).status).toBe(200);
    expect((await listAs(app, tenant)).status).toBe(200);
    const refused = await listAs(app, tenant);
    expect((await expectRateLimited(refused)).retryAfter).toBe(1);

    // One token every 500 ms.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const again = await listAs(app, tenant);
    expect(again.status).toBe(200);
    expect(rateLimitOf(again)?.r).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(rateLimitOf(await listAs(app, tenant))?.r).toBe(1);
  });

  it("applies a tenant's own limit set through the admin API, and one tenant's exhaustion leaves another alone", async () => {
    const app = withLimits({ points: 2, windowSeconds: 60 });
    const big = await api.newTenant();
    const small = await api.newTenant();
    const patched = await setTenantLimits(big.tenantId, { rateLimit: 4 });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: big.tenantId, rateLimit: 4, maxActiveJobs: null });

    const bigAnswers = [];
    for (let i = 0; i < 5; i++) bigAnswers.push(await listAs(app, big));
    expect(bigAnswers.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    expect(bigAnswers[0]!.headers.get('ratelimit-policy')).toBe('"default";q=4;w=60');

    const smallAnswers = [];
    for (let i = 0; i < 3; i++) smallAnswers.push(await listAs(app, small));
    expect(smallAnswers.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(smallAnswers[0]!.headers.get('ratelimit-policy')).toBe('"default";q=2;w=60');
    expect(rateLimitOf(smallAnswers[0]!)?.r).toBe(1);

    // 0 = unlimited for this tenant (no headers at all); null = back to the deployment's default.
    expect((await setTenantLimits(small.tenantId, { rateLimit: 0 })).status).toBe(200);
    const unlimited = await listAs(app, small);
    expect(unlimited.status).toBe(200);
    expect(unlimited.headers.get('ratelimit-policy')).toBeNull();
    expect(unlimited.headers.get('ratelimit')).toBeNull();
    expect((await setTenantLimits(small.tenantId, { rateLimit: null })).status).toBe(200);
    expect((await listAs(app, small)).status).toBe(429);
  });

  it('keeps each API key in a bucket of its own', async () => {
    const app = withLimits({ points: 2, windowSeconds: 60 });
    const tenant = await api.newTenant();
    const second = await api.newKey(tenant.tenantId);
    for (let i = 0; i < 2; i++) expect((await listAs(app, tenant)).status).toBe(200);
    expect((await listAs(app, tenant)).status).toBe(429);

    const other = await listAs(app, tenant, second.key);
    expect(other.status).toBe(200);
    expect(rateLimitOf(other)?.r).toBe(1);
  });

  it('validates the admin request and answers 404 for an unknown tenant', async () => {
    const tenant = await api.newTenant();
    expect((await setTenantLimits(randomUUID(), { rateLimit: 5 })).status).toBe(404);
    expect((await setTenantLimits('not-a-uuid', { rateLimit: 5 })).status).toBe(404);
    const invalid = await setTenantLimits(tenant.tenantId, { rateLimit: -1 });
    expect(invalid.status).toBe(422);
    expect((await problemWithoutRequestId(invalid)).errors?.[0]?.path).toBe('rateLimit');
    expect((await api.call('PATCH', `/v1/admin/tenants/${tenant.tenantId}`, { body: {} })).status).toBe(401);
  });
});

describe('active-job cap', () => {
  /** Runs the job to success, as a worker would, so it no longer counts. */
  async function finish(id: string) {
    const started = await startAttempt(api.db, id, 0);
    if (started.kind !== 'run') throw new Error(`could not start ${id}: ${started.reason}`);
    expect(await completeAttempt(api.db, { id, fence: started.row.fence, result: {} })).toBe(true);
  }

  const submit = (app: App, tenant: TestTenant) =>
    tenant.call('POST', '/v1/jobs', { app, body: { type: 'noop' } });
  const submitBatch = (app: App, tenant: TestTenant, n: number) =>
    tenant.call('POST', '/v1/jobs/batch', {
      app,
      body: { jobs: Array.from({ length: n }, () => ({ type: 'noop' })) },
    });

  it('refuses single and batch submits past the cap with 429, and accepts again once jobs finish', async () => {
    const app = withLimits({ points: 0, windowSeconds: 60, maxActiveJobs: 3 });
    const tenant = await api.newTenant();
    const first = await submit(app, tenant);
    expect(first.status).toBe(202);
    const batch = await submitBatch(app, tenant, 2);
    expect(batch.status).toBe(202);
    const ids = [
      ((await first.json()) as { id: string }).id,
      ...((await batch.json()) as { data: { id: string }[] }).data.map((j) => j.id),
    ];

    const single = await expectRateLimited(await submit(app, tenant));
    expect(single.detail).toContain('3 unfinished jobs');
    expect(single.detail).toContain('at most 3');
    await expectRateLimited(await submitBatch(app, tenant, 1));

    // A running job still counts; a finished one does not.
    await finish(ids[0]!);
    await finish(ids[1]!);
    expect((await startAttempt(api.db, ids[2]!, 0)).kind).toBe('run');
    // 1 active: a batch of 3 would make 4 and is refused whole; a batch of 2 fits.
    const tooBig = await expectRateLimited(await submitBatch(app, tenant, 3));
    expect(tooBig.detail).toContain('3 more jobs');
    expect((await submitBatch(app, tenant, 2)).status).toBe(202);
    await expectRateLimited(await submit(app, tenant));
  });

  it("applies a tenant's own cap, and one tenant at its cap leaves another alone", async () => {
    const app = withLimits({ points: 0, windowSeconds: 60, maxActiveJobs: 0 });
    const capped = await api.newTenant();
    const free = await api.newTenant();
    expect((await setTenantLimits(capped.tenantId, { maxActiveJobs: 1 })).status).toBe(200);

    expect((await submit(app, capped)).status).toBe(202);
    await expectRateLimited(await submit(app, capped));
    // The deployment's default here is 0: unlimited.
    for (let i = 0; i < 3; i++) expect((await submit(app, free)).status).toBe(202);
    expect((await submitBatch(app, free, 5)).status).toBe(202);
  });
});

describe('failed-authentication throttle', () => {
  const limits: LimitOptions = {
    points: 100,
    windowSeconds: 60,
    authFailures: 3,
    authFailureWindowSeconds: 60,
    trustedProxies: 1,
  };
  const badKey = 'cvr_deadbeef_not-a-real-key-at-all';

  it('answers 429 to an address after N failed attempts, before looking at its key, while another address is unaffected', async () => {
    const app = withLimits(limits);
    const tenant = await api.newTenant();
    const from = (address: string) => ({ 'x-forwarded-for': `${address}` });
    const attacker = from('198.51.100.7');

    for (let i = 0; i < 3; i++) {
      expect((await tenant.call('GET', '/v1/jobs', { app, key: badKey, headers: attacker })).status).toBe(
        401,
      );
    }
    // Even a valid key is refused now from that address: the throttle comes before the lookup.
    const refused = await tenant.call('GET', '/v1/jobs', { app, headers: attacker });
    const { retryAfter, detail } = await expectRateLimited(refused);
    expect(retryAfter).toBeGreaterThanOrEqual(19);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(detail).toContain('failed authentications');
    expect(refused.headers.get('ratelimit-policy')).toBe('"auth-failures";q=3;w=60');
    expect(rateLimitOf(refused, 'auth-failures')).toEqual({ r: 0, t: retryAfter });
    expect((await tenant.call('GET', '/v1/jobs', { app, key: badKey, headers: attacker })).status).toBe(429);

    // Another client behind the same trusted proxy: the proxy appended its address last.
    const other = { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' };
    expect((await tenant.call('GET', '/v1/jobs', { app, headers: other })).status).toBe(200);
    expect((await tenant.call('GET', '/v1/jobs', { app, key: badKey, headers: other })).status).toBe(401);
  });

  it("uses the socket's address and ignores X-Forwarded-For unless proxies are trusted", async () => {
    const app = withLimits({ ...limits, trustedProxies: 0 });
    const tenant = await api.newTenant();
    const fromSocket = (address: string, spoofed: string, key: string) =>
      app.request(
        '/v1/jobs',
        { headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': spoofed } },
        { incoming: { socket: { remoteAddress: address, remotePort: 40_000, remoteFamily: 'IPv6' } } },
      );
    for (let i = 0; i < 3; i++)
      expect((await fromSocket('::ffff:10.9.8.7', `192.0.2.${i}`, badKey)).status).toBe(401);
    await expectRateLimited(await fromSocket('10.9.8.7', '192.0.2.200', tenant.key));
    expect((await fromSocket('10.9.8.6', '10.9.8.7', tenant.key)).status).toBe(200);
  });

  it('throttles failed admin-token attempts the same way', async () => {
    const app = withLimits(limits);
    const headers = { 'x-forwarded-for': '192.0.2.55' };
    const admin = (token: string) =>
      api.call('POST', '/v1/admin/tenants', { app, key: token, headers, body: { name: 'x' } });
    for (let i = 0; i < 3; i++) expect((await admin('wrong-admin-token-0123456789')).status).toBe(401);
    await expectRateLimited(await admin(ADMIN_TOKEN));
  });
});

describe('when Redis is unreachable', () => {
  let deadProducer: Producer;
  const lines: string[] = [];
  beforeAll(() => {
    deadProducer = createProducer({ redisUrl: 'redis://127.0.0.1:1', prefix: api.prefix });
  });
  afterAll(async () => {
    await deadProducer?.close();
  });

  it('serves requests without limits (fail open) and warns once, never answering 5xx', async () => {
    const log = createLogger({
      name: 'test',
      level: 'warn',
      destination: { write: (line) => lines.push(line) },
    });
    const app = withLimits(
      { points: 1, windowSeconds: 60, authFailures: 1, trustedProxies: 1, maxActiveJobs: 100 },
      { producer: deadProducer, log },
    );
    const tenant = await api.newTenant();
    const started = Date.now();
    for (let i = 0; i < 4; i++) {
      const res = await listAs(app, tenant);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=1;w=60');
      expect(res.headers.get('ratelimit')).toBeNull();
    }
    for (let i = 0; i < 3; i++) {
      const res = await tenant.call('GET', '/v1/jobs', {
        app,
        key: 'cvr_0badc0de_nope',
        headers: { 'x-forwarded-for': '192.0.2.1' },
      });
      expect(res.status).toBe(401);
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    const warnings = lines.filter((line) => line.includes('rate limiter unavailable'));
    expect(warnings).toHaveLength(1);
  });
});

/**
 * A "Redis" that completes the connection handshake (so the client is ready) and then never answers a
 * script: what a wedged or overloaded server looks like to the limiter.
 */
function stalledRedis(): Promise<{ server: Server; url: string }> {
  const server = createServer((socket) => {
    socket.on('data', (data) => {
      // Requests are RESP arrays; the command name is the first bulk string of each.
      for (const [, name] of data.toString('latin1').matchAll(/\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n/g)) {
        const command = name!.toUpperCase();
        if (command === 'INFO') socket.write('$11\r\nloading:0\r\n\r\n');
        else if (command !== 'EVALSHA' && command !== 'EVAL') socket.write('+OK\r\n');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `redis://127.0.0.1:${port}` });
    }),
  );
}

describe('when Redis accepts commands but never answers', () => {
  let stalled: { server: Server; url: string };
  let producer: Producer;
  beforeAll(async () => {
    stalled = await stalledRedis();
    producer = createProducer({ redisUrl: stalled.url, prefix: api.prefix });
    await vi.waitUntil(() => producer.redis.status === 'ready', { timeout: 5_000 });
  });
  afterAll(async () => {
    await producer?.close();
    await new Promise((resolve) => stalled?.server.close(resolve));
  });

  it('gives up after the Redis timeout and serves the request, then skips Redis for a while', async () => {
    const app = withLimits({ points: 1, windowSeconds: 60, redisTimeoutMs: 300 }, { producer });
    const tenant = await api.newTenant();
    let started = Date.now();
    const first = await listAs(app, tenant);
    expect(first.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(first.headers.get('ratelimit')).toBeNull();
    // Within the next second the limiter does not wait for Redis again.
    started = Date.now();
    expect((await listAs(app, tenant)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(250);
  });
});
