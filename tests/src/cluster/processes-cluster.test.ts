import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports';
import { type AppProcess, startApp } from '../helpers/processes';
import { type PrivateRedisCluster, startPrivateRedisCluster } from '../helpers/redis-cluster';
import { waitFor } from '../helpers/wait';

const ADMIN = 'cluster-admin-token-0123456789';

/**
 * The real `api` and `worker` processes configured as production would be for a Redis Cluster:
 * REDIS_CLUSTER_NODES names the seed nodes, and REDIS_URL (pointing where nothing listens) is ignored.
 */
describe('api and worker processes on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let cluster: PrivateRedisCluster;
  let db: TestDatabase;
  const prefix = testPrefix();
  let api: AppProcess;
  let worker: AppProcess;
  let base: string;

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster(3);
    db = await createTestDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:1',
      // One seed node is enough; the other forms are accepted too.
      REDIS_CLUSTER_NODES: `127.0.0.1:${cluster.ports[0]}, redis://127.0.0.1:${cluster.ports[1]}`,
      QUEUE_PREFIX: prefix,
    };
    api = startApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN });
    worker = startApp('worker', { ...env, WORKER_CONCURRENCY: '4', WORKER_HEARTBEAT_INTERVAL_MS: '1000' });
    await Promise.all([api.waitForLine(/"api listening"/), worker.waitForLine(/"worker started"/)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([api?.kill(), worker?.kill()]);
    if (cluster) await deletePrefix(cluster.target, prefix).catch(() => undefined);
    await db?.drop();
    await cluster?.close();
  });

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('is ready, runs submitted jobs, and shows the worker in the fleet view', async () => {
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { redis: 'ok' }, redisMaxmemoryPolicy: 'noeviction' });
    // Nothing in the logs names the unused REDIS_URL as unreachable.
    expect([...api.lines, ...worker.lines].join('\n')).not.toContain('Redis is unreachable');

    const tenant = await call('POST', '/v1/admin/tenants', ADMIN, { name: 'cluster' });
    const created = await call('POST', `/v1/admin/tenants/${tenant.body.id}/api-keys`, ADMIN, {
      scopes: ['jobs:read', 'jobs:write'],
    });
    const key = created.body.key as string;
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const submitted = await call('POST', '/v1/jobs', key, {
        type: 'noop',
        payload: i === 0 ? { fail: 'once' } : { echo: i },
      });
      expect(submitted.status).toBe(202);
      ids.push(submitted.body.id as string);
    }
    for (const id of ids) {
      await waitFor(`job ${id} to succeed`, async () => {
        const job = await call('GET', `/v1/jobs/${id}`, key);
        return job.body.status === 'succeeded';
      });
    }
    expect((await call('GET', `/v1/jobs/${ids[0]}`, key)).body.attempts).toBe(2);

    const queues = await call('GET', '/v1/queues', key);
    expect(queues.status).toBe(200);
    expect(queues.body.workersOnline).toBe(1);
  });
});
