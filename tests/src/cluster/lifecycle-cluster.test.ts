import { createApp, createJobWatch } from '@conveyor/api';
import { isCluster, jobCacheKey, masters, subscribeJobChanges } from '@conveyor/queue';
import type { JobView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { type PrivateRedisCluster, startPrivateRedisCluster } from '../helpers/redis-cluster';
import { readSse } from '../helpers/sse';
import { describeLifecycle } from '../lifecycle/describe-lifecycle';

/**
 * The job lifecycle on a Redis Cluster of three masters (private, on loopback ports): the same scenarios as
 * on a single Redis, then what else touches Redis (live status over pub/sub, the read cache, rate limits,
 * the fleet view, readiness), where the keys land, and the reconciler after every master lost its data.
 */
let cluster: PrivateRedisCluster;

beforeAll(async () => {
  cluster = await startPrivateRedisCluster(3);
}, 120_000);
afterAll(async () => {
  await cluster?.close();
});

describeLifecycle(
  'job lifecycle on a Redis Cluster',
  () => createHarness({ redisUrl: cluster.target }),
  (harness) => {
    it('talks to the cluster: three masters, each serving slots', async () => {
      const h = harness();
      expect(isCluster(h.producer.redis)).toBe(true);
      expect(masters(h.producer.redis)).toHaveLength(3);
      const info = await cluster.cli(cluster.ports[0]!, 'cluster', 'info');
      expect(info).toContain('cluster_state:ok');
      expect(info).toContain('cluster_known_nodes:3');
    });

    it('wakes ?wait= and streams SSE through another API instance (pub/sub across nodes)', async () => {
      const h = harness();
      const other = h.newApp();
      const viaOther = (path: string, headers: Record<string, string> = {}) =>
        Promise.resolve(other.request(path, { headers: { authorization: `Bearer ${h.key}`, ...headers } }));

      const first = await h.submit({ type: 'noop', payload: { sleepMs: 500 } });
      const started = Date.now();
      const waited = await viaOther(`/v1/jobs/${first.job.id}?wait=20`);
      expect(((await waited.json()) as JobView).status).toBe('succeeded');
      expect(Date.now() - started).toBeLessThan(10_000);

      const { job } = await h.submit({ type: 'noop', payload: { fail: 'once' } });
      const res = await viaOther(`/v1/jobs/${job.id}/events`, { accept: 'text/event-stream' });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const { events, ended } = await readSse(res);
      expect(ended).toBe(true);
      expect(events.map((e) => e.event)).toEqual(['queued', 'running', 'retrying', 'running', 'succeeded']);
    });

    it('serves a job from the read cache held in the cluster', async () => {
      const h = harness();
      // A waiting job: succeeded ones are answered from an in-process cache before Redis is asked.
      const { job } = await h.submit({
        type: 'noop',
        payload: { echo: 'cached' },
        options: { delay: 60_000 },
      });
      const { fills, hits } = { ...h.producer.jobCache.stats };
      await h.getJob(job.id); // a miss, filled from Postgres
      const again = await h.getJob(job.id);
      expect(again).toMatchObject({ id: job.id, status: 'queued', payload: { echo: 'cached' } });
      expect(h.producer.jobCache.stats.fills).toBe(fills + 1);
      expect(h.producer.jobCache.stats.hits).toBe(hits + 1);
      expect(await h.producer.redis.hget(jobCacheKey(h.prefix, job.id), 'v')).not.toBeNull();
      // A write drops the cached view: the cancel is read back at once, not the cached 'queued'.
      expect((await h.request('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(202);
      expect((await h.getJob(job.id)).status).toBe('canceled');
    });

    it('counts requests in the cluster-held token bucket and answers 429 with rate-limit headers', async () => {
      const h = harness();
      const { key } = await h.newTenant();
      const watch = createJobWatch((onChange) => subscribeJobChanges(h.redis, h.prefix, onChange));
      try {
        const limited = createApp({
          db: h.db.db,
          producer: h.producer,
          log: h.log,
          store: h.store,
          watch,
          authCacheTtlMs: 0,
          limits: { points: 3, windowSeconds: 60 },
        });
        const get = () =>
          Promise.resolve(limited.request('/v1/queues', { headers: { authorization: `Bearer ${key}` } }));
        const remaining: string[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await get();
          expect(res.status).toBe(200);
          expect(res.headers.get('ratelimit-policy')).toBe('"default";q=3;w=60');
          remaining.push(res.headers.get('ratelimit') ?? '');
        }
        expect(remaining.map((r) => /;r=(\d+);/.exec(r)?.[1])).toEqual(['2', '1', '0']);
        const refused = await get();
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(((await refused.json()) as { code: string }).code).toBe('rate_limited');
      } finally {
        watch.close();
      }
    });

    it('GET /v1/queues shows BullMQ counts, throughput and the worker heartbeat from the cluster', async () => {
      const h = harness();
      const { job } = await h.submit({ type: 'noop', payload: {}, options: { delay: 60_000 } });
      const res = await h.request('GET', '/v1/queues');
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        data: {
          name: string;
          counts: Record<string, number>;
          throughput: { completedLastMinute: number };
          workersOnline: number;
        }[];
        workersOnline: number;
      };
      const main = body.data.find((q) => q.name === 'default')!;
      expect(main.counts.delayed).toBeGreaterThanOrEqual(1);
      expect(main.throughput.completedLastMinute).toBeGreaterThanOrEqual(1);
      expect(main.workersOnline).toBe(1);
      expect(body.workersOnline).toBe(1);
      await h.request('POST', `/v1/jobs/${job.id}/cancel`);
    });

    it('reports noeviction from every master on /health/ready', async () => {
      const h = harness();
      const res = await Promise.resolve(h.app.request('/health/ready'));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ok',
        checks: { postgres: 'ok', redis: 'ok' },
        redisMaxmemoryPolicy: 'noeviction',
      });
      // One master that may evict is enough for the warning.
      const evicting = cluster.ports[2]!;
      await cluster.cli(evicting, 'config', 'set', 'maxmemory-policy', 'allkeys-lru');
      try {
        const warned = (await (await Promise.resolve(h.app.request('/health/ready'))).json()) as {
          redisMaxmemoryPolicy: string;
          warnings?: string[];
        };
        expect(warned.redisMaxmemoryPolicy).toBe('allkeys-lru');
        expect(warned.warnings?.[0]).toContain('allkeys-lru');
      } finally {
        await cluster.cli(evicting, 'config', 'set', 'maxmemory-policy', 'noeviction');
      }
    });

    it('keeps every key of the prefix in one hash slot, on one master', async () => {
      const h = harness();
      const perNode = await Promise.all(
        masters(h.producer.redis).map(async (node) => {
          const keys: string[] = [];
          let cursor = '0';
          do {
            const [next, found] = await node.scan(cursor, 'MATCH', `${h.prefix}*`, 'COUNT', 1000);
            cursor = next;
            keys.push(...found);
          } while (cursor !== '0');
          return { port: node.options.port, keys };
        }),
      );
      const holding = perNode.filter((n) => n.keys.length > 0);
      expect(holding).toHaveLength(1);
      const keys = holding[0]!.keys;
      // BullMQ's own keys, the read cache, heartbeats and rate-limit buckets are all there.
      for (const part of [':default:meta', ':default:events', ':workers', ':job-cache:', ':ratelimit:']) {
        expect(
          keys.some((k) => k.includes(part)),
          part,
        ).toBe(true);
      }
      const slots = new Set(
        await Promise.all(keys.map((k) => cluster.cli(holding[0]!.port!, 'cluster', 'keyslot', k))),
      );
      expect([...slots]).toEqual([await cluster.cli(holding[0]!.port!, 'cluster', 'keyslot', h.prefix)]);
    });
  },
);

/** Invariant 2 on a cluster: every non-terminal job reaches a worker even after every master lost its data. */
describe('reconciler on a Redis Cluster after FLUSHALL on every master', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ redisUrl: cluster.target });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('re-enqueues queued and delayed jobs from Postgres and runs each once, delayed ones not early', async () => {
    const runAt = new Date(Date.now() + 4_000);
    const immediate = await Promise.all(
      Array.from({ length: 10 }, (_, i) => h.submit({ type: 'noop', payload: { echo: i } })),
    );
    const delayed = await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        h.submit({ type: 'noop', payload: { echo: `late-${i}` }, options: { runAt: runAt.toISOString() } }),
      ),
    );
    const all = [...immediate, ...delayed].map((s) => s.job.id);
    for (const { res } of [...immediate, ...delayed]) expect(res.status).toBe(202);
    expect(await h.producer.snapshot('default', all[0]!)).not.toBeNull();

    await cluster.flushAll(h.producer.redis);
    for (const port of cluster.ports) expect(await cluster.cli(port, 'dbsize')).toBe('0');
    expect(await h.producer.snapshot('default', all[0]!)).toBeNull();

    await h.startWorker({ reconcile: { intervalMs: 300, graceMs: 500 } });
    for (const { job } of immediate) await h.waitForStatus(job.id, ['succeeded'], 20_000);
    for (const { job } of delayed) {
      const done = await h.waitForStatus(job.id, ['succeeded'], 20_000);
      expect(new Date(done.startedAt!).getTime()).toBeGreaterThanOrEqual(runAt.getTime());
    }
    for (const id of all) expect((await h.getJob(id)).attempts).toBe(1);
  });
});
