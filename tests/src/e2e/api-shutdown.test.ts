import { request } from 'node:http';
import { createApiKey, createTenant } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { type AppProcess, startApp } from '../helpers/processes';

/** Invariant 7, API side: SIGTERM lets a request already in flight finish before the process exits. */
describe('SIGTERM to the API process', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  let api: AppProcess;
  let port: number;
  let key: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const tenant = await createTenant(db.db, 'shutdown');
    key = (await createApiKey(db.db, { tenantId: tenant.id, scopes: ['jobs:write', 'jobs:read'] })).key;
    port = await freePort();
    api = startApp('api', {
      DATABASE_URL: db.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    await api.waitForLine(/"api listening"/);
  });
  afterAll(async () => {
    await api?.kill();
    await deletePrefix(REDIS_URL, prefix);
    await db?.drop();
  });

  it('answers a submit whose body is still arriving when the signal comes, then exits 0', async () => {
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/jobs',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            'transfer-encoding': 'chunked',
          },
        },
        (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write('{"type":"noop",');
      setTimeout(() => {
        api.signal('SIGTERM');
        setTimeout(() => req.end('"payload":{}}'), 500);
      }, 300);
    });
    const { status, body } = await answer;
    expect(status).toBe(202);
    const id = (JSON.parse(body) as { id: string }).id;
    expect(await api.exited).toBe(0);
    expect(api.lines.some((l) => l.includes('shut down cleanly'))).toBe(true);
    // The accepted job is committed.
    const { findJob } = await import('@conveyor/db');
    const tenantId = (await db.db.query.apiKeys.findFirst())!.tenantId;
    expect((await findJob(db.db, tenantId, id))?.status).toBe('queued');
  });
});
