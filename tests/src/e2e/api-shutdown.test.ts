import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useApiProcess } from '../helpers/use-api-process';

/** Invariant 7, API side: SIGTERM lets a request already in flight finish before the process exits. */
describe('SIGTERM to the API process', () => {
  const ctx = useApiProcess({ tenant: 'shutdown', scopes: ['jobs:write', 'jobs:read'] });

  it('answers a submit whose body is still arriving when the signal comes, then exits 0', async () => {
    const { api, port, key, db, tenantId } = ctx;
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
    expect((await findJob(db.db, tenantId, id))?.status).toBe('queued');
  });
});
