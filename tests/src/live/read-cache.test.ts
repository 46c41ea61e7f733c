import { createApp } from '@conveyor/api';
import { findJob } from '@conveyor/db';
import { createProducer, jobCacheKey, type Producer } from '@conveyor/queue';
import type { JobView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';

/** The fields of a job that move with its state; what a stale answer would get wrong. */
type State = Pick<JobView, 'status' | 'attempts' | 'progress' | 'updatedAt'>;
const stateOf = (v: State): State => ({
  status: v.status,
  attempts: v.attempts,
  progress: v.progress,
  updatedAt: v.updatedAt,
});

/**
 * The Redis read cache of GET /v1/jobs/:id, through the real API app and a real worker: every transition
 * the worker, the reconciler or the API commits is visible to any read sent after the commit.
 */
describe('read cache of single jobs', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  const pgState = async (id: string): Promise<State> => {
    const row = await findJob(h.db.db, h.tenantId, id);
    if (!row) throw new Error(`no row ${id}`);
    return {
      status: row.status,
      attempts: row.attempts,
      progress: row.progress,
      updatedAt: row.updatedAt.toISOString(),
    };
  };

  it('never answers a state older than the last transition committed before the request', async () => {
    const payloads = [
      { sleepMs: 400, fail: 'once' },
      { sleepMs: 300 },
      { sleepMs: 600, fail: 'once' },
      { fail: 'once' },
      { sleepMs: 100 },
      { sleepMs: 500, fail: 'once' },
    ];
    const ids: string[] = [];
    for (const payload of payloads) ids.push((await h.submit({ type: 'noop', payload })).job.id);
    const hitsBefore = h.producer.jobCache.stats.hits;
    const violations: string[] = [];
    let reads = 0;

    // One reader per job, looping until the job is terminal and a read has shown it (or 20 s pass).
    const deadline = Date.now() + 20_000;
    await Promise.all(
      ids.map(async (id) => {
        while (Date.now() < deadline) {
          const before = await pgState(id);
          const res = await h.request('GET', `/v1/jobs/${id}`);
          expect(res.status).toBe(200);
          const answer = stateOf((await res.json()) as JobView);
          const after = await pgState(id);
          reads++;
          const same = (a: State, b: State) => JSON.stringify(a) === JSON.stringify(b);
          // updatedAt orders states except within one millisecond; then the answer must be one of the two
          // states Postgres held around the request.
          const newer = answer.updatedAt > before.updatedAt && answer.updatedAt <= after.updatedAt;
          if (!(newer || same(answer, before) || same(answer, after))) {
            violations.push(
              `${id}: answered ${JSON.stringify(answer)}, committed before: ${JSON.stringify(before)}`,
            );
          }
          if (answer.status === 'succeeded') return;
        }
        violations.push(`${id}: no read showed it succeeded within 20 s`);
      }),
    );

    expect(violations).toEqual([]);
    expect(reads).toBeGreaterThan(ids.length * 4);
    // The loop went through the cache, not around it.
    expect(h.producer.jobCache.stats.hits - hitsBefore).toBeGreaterThan(0);
    for (const id of ids) {
      expect((await h.events(id)).map((e) => e.type)).toContain('succeeded');
    }
  });

  it('serves a repeated read of an unfinished job from Redis, including the 304', async () => {
    // Delayed: it stays queued, so the Redis cache (not the in-process one for succeeded jobs) answers.
    const { job } = await h.submit({
      type: 'noop',
      payload: { echo: 'cached' },
      options: { delay: 600_000 },
    });
    const first = await h.request('GET', `/v1/jobs/${job.id}`);
    const etag = first.headers.get('etag')!;
    const { stats } = h.producer.jobCache;
    const hits = stats.hits;
    const second = await h.request('GET', `/v1/jobs/${job.id}`);
    expect(second.headers.get('etag')).toBe(etag);
    expect(await second.json()).toEqual(await first.json());
    expect(stats.hits).toBe(hits + 1);
    const notModified = await h.request('GET', `/v1/jobs/${job.id}`, { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(stats.hits).toBe(hits + 2);

    // The body really comes from Redis: a marker written into the cached view is what the API answers.
    const key = jobCacheKey(h.prefix, job.id);
    const cached = JSON.parse((await h.producer.redis.hget(key, 'b'))!) as JobView;
    await h.producer.redis.hset(key, 'b', JSON.stringify({ ...cached, result: { marker: true } }));
    expect(((await h.getJob(job.id)) as JobView).result).toEqual({ marker: true });
    await h.producer.jobCache.invalidate(job.id);
    expect((await h.getJob(job.id)).result).toBeNull();
  });

  it('serves a succeeded job from process memory: no Redis read, and nothing in Redis can change it', async () => {
    const { job } = await h.submit({ type: 'noop', payload: { echo: 'settled' } });
    await h.waitForStatus(job.id, ['succeeded']);
    const first = await h.request('GET', `/v1/jobs/${job.id}`);
    const { stats } = h.producer.jobCache;
    const before = { hits: stats.hits, misses: stats.misses };
    const key = jobCacheKey(h.prefix, job.id);
    const cached = await h.producer.redis.hget(key, 'b');
    if (cached) await h.producer.redis.hset(key, 'b', JSON.stringify({ ...JSON.parse(cached), result: 'x' }));
    const second = await h.request('GET', `/v1/jobs/${job.id}`);
    expect(await second.json()).toEqual(await first.json());
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect({ hits: stats.hits, misses: stats.misses }).toEqual(before);
  });

  it('answers 404 for another tenant’s job even while it is cached', async () => {
    const { job } = await h.submit({ type: 'noop', payload: {} });
    await h.waitForStatus(job.id, ['succeeded']);
    await h.getJob(job.id);
    const hits = h.producer.jobCache.stats.hits;
    const stranger = await h.newTenant();
    const res = await h.request('GET', `/v1/jobs/${job.id}`, { key: stranger.key });
    expect(res.status).toBe(404);
    expect(h.producer.jobCache.stats.hits).toBe(hits + 1);
  });

  it('shows a cancel and a retry from the API at once, even when the job was cached', async () => {
    const { job } = await h.submit({ type: 'noop', payload: { fail: 'always' } });
    await h.waitForStatus(job.id, ['failed']);
    await h.getJob(job.id);
    const retried = await h.request('POST', `/v1/jobs/${job.id}/retry`);
    expect(retried.status).toBe(202);
    expect(['queued', 'running', 'retrying']).toContain((await h.getJob(job.id)).status);
    const canceled = await h.request('POST', `/v1/jobs/${job.id}/cancel`);
    expect(canceled.status).toBe(202);
    const row = await pgState(job.id);
    expect(stateOf(await h.getJob(job.id))).toEqual(row);
  });

  describe('with Redis down', () => {
    let dead: Producer;
    beforeAll(() => {
      dead = createProducer({ redisUrl: 'redis://127.0.0.1:1', prefix: h.prefix });
    });
    afterAll(async () => {
      await dead?.close();
    });

    it('serves reads from Postgres', async () => {
      const { job } = await h.submit({ type: 'noop', payload: { echo: 'pg' } });
      await h.waitForStatus(job.id, ['succeeded']);
      const app = createApp({ db: h.db.db, producer: dead, log: h.log, store: h.store, authCacheTtlMs: 0 });
      const res = await app.request(`/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${h.key}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as JobView).result).toEqual({ echo: 'pg' });
      const stranger = await h.newTenant();
      const other = await app.request(`/v1/jobs/${job.id}`, {
        headers: { authorization: `Bearer ${stranger.key}` },
      });
      expect(other.status).toBe(404);
      expect(dead.jobCache.stats.hits).toBe(0);
    });
  });
});
