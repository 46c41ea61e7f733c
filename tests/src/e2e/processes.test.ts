import { ConveyorError, createClient } from '@conveyor/client';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { type AppProcess, startApp } from '../helpers/processes';
import { waitFor } from '../helpers/wait';

const ADMIN = 'e2e-admin-token-0123456789';

/**
 * The real `api` and `worker` processes, started as production starts them, driven over HTTP through the
 * typed client (@conveyor/client); only the admin calls, which the client does not cover, use fetch.
 */
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

  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Record<string, unknown>;
  };

  it('creates a tenant and key, runs submitted jobs to the end, and shuts down cleanly on SIGTERM', async () => {
    const tenant = await admin('/v1/admin/tenants', { name: 'e2e' });
    const created = await admin(`/v1/admin/tenants/${tenant.id}/api-keys`, {
      scopes: ['jobs:read', 'jobs:write'],
    });
    const echoedIds: (string | null)[] = [];
    const client = createClient({
      baseUrl: base,
      apiKey: created.key as string,
      onResponse: (res) => echoedIds.push(res.headers.get('x-request-id')),
    });

    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const payload = i === 0 ? { fail: 'once' as const } : { echo: i };
      const job = await client.submit({ type: 'noop', payload }, { requestId: `e2e-${i}` });
      expect(job.status).toBe('queued');
      expect(echoedIds.at(-1)).toBe(`e2e-${i}`);
      ids.push(job.id);
    }
    for (const id of ids) {
      await waitFor(`job ${id} to succeed`, async () => (await client.get(id)).status === 'succeeded');
    }
    const first = await client.get(ids[0]!);
    expect(first.attempts).toBe(2);
    const list = await client.list({ status: 'succeeded', limit: 100, fields: ['status'] });
    expect(list.data.length).toBe(20);
    // Paging through nextCursor (7 a page) reaches every job exactly once.
    const paged: string[] = [];
    for await (const job of client.listAll({ limit: 7, fields: ['id'] })) paged.push(job.id);
    expect(paged.sort()).toEqual([...ids].sort());
    // The timeline streams over SSE and ends after the terminal event.
    const streamed: string[] = [];
    for await (const e of client.streamEvents(ids[0]!)) streamed.push(e.type);
    expect(streamed.at(-1)).toBe('succeeded');
    expect((await client.events(ids[0]!)).map((e) => e.type)).toEqual(streamed);
    // Errors come back as ConveyorError with the problem's stable code.
    const err = await client.cancel(ids[1]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConveyorError);
    expect(err).toMatchObject({ status: 409, code: 'invalid_state' });
    // The submitting request's id travels with the job into the worker's log lines.
    expect(worker.lines.some((l) => l.includes(ids[5]!) && l.includes('"requestId":"e2e-5"'))).toBe(true);

    api.signal('SIGTERM');
    worker.signal('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    expect(api.lines.some((l) => l.includes('shut down cleanly'))).toBe(true);
  });
});
