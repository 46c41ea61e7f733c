import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import type { JobView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { type AppProcess, startApp } from '../helpers/processes';
import { waitFor } from '../helpers/wait';

const ADMIN = 'e2e-admin-token-0123456789';

/** The real `api` and `worker` processes, started as production starts them, driven over HTTP. */
describe('api and worker processes end to end', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  let api: AppProcess;
  let worker: AppProcess;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix };
    api = startApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN });
    worker = startApp('worker', { ...env, WORKER_CONCURRENCY: '8' });
    await Promise.all([api.waitForLine(/"api listening"/), worker.waitForLine(/"worker started"/)]);
  });
  afterAll(async () => {
    await Promise.all([api?.kill(), worker?.kill()]);
    await deletePrefix(REDIS_URL, prefix);
    await db?.drop();
  });

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      res,
      body: res.status === 204 || res.status === 304 ? null : ((await res.json()) as Record<string, unknown>),
    };
  };

  it('creates a tenant and key, runs submitted jobs to the end, and shuts down cleanly on SIGTERM', async () => {
    const tenant = await call('POST', '/v1/admin/tenants', { name: 'e2e' }, ADMIN);
    expect(tenant.res.status).toBe(201);
    const created = await call(
      'POST',
      `/v1/admin/tenants/${tenant.body!.id}/api-keys`,
      { scopes: ['jobs:read', 'jobs:write'] },
      ADMIN,
    );
    expect(created.res.status).toBe(201);
    const key = created.body!.key as string;

    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const payload = i === 0 ? { fail: 'once' } : { echo: i };
      const { res, body } = await call('POST', '/v1/jobs', { type: 'noop', payload }, key, {
        'x-request-id': `e2e-${i}`,
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('x-request-id')).toBe(`e2e-${i}`);
      ids.push(body!.id as string);
    }
    for (const id of ids) {
      await waitFor(`job ${id} to succeed`, async () => {
        const { body } = await call('GET', `/v1/jobs/${id}`, undefined, key);
        return (body as unknown as JobView).status === 'succeeded';
      });
    }
    const first = (await call('GET', `/v1/jobs/${ids[0]}`, undefined, key)).body as unknown as JobView;
    expect(first.attempts).toBe(2);
    const list = await call('GET', '/v1/jobs?status=succeeded&limit=100&fields=status', undefined, key);
    expect((list.body!.data as unknown[]).length).toBe(20);
    // The submitting request's id travels with the job into the worker's log lines.
    expect(worker.lines.some((l) => l.includes(ids[5]!) && l.includes('"requestId":"e2e-5"'))).toBe(true);

    api.signal('SIGTERM');
    worker.signal('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    expect(api.lines.some((l) => l.includes('shut down cleanly'))).toBe(true);
  });
});
