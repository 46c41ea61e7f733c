import type { JobView, Problem } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

/** POST /v1/jobs/batch: atomic in Postgres, one addBulk, answers in request order. */
describe('batch submit', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const count = async () => {
    const res = await h.request('GET', '/v1/jobs?limit=100&fields=id');
    return ((await res.json()) as { data: unknown[] }).data.length;
  };

  it('accepts up to 1,000 jobs, answers them in request order, and every one runs', async () => {
    const jobs = Array.from({ length: 1_000 }, (_, i) => ({ type: 'noop', payload: { echo: i } }));
    const res = await h.request('POST', '/v1/jobs/batch', { body: { jobs } });
    expect(res.status).toBe(202);
    const { data } = (await res.json()) as { data: JobView[] };
    expect(data.map((j) => (j.payload as { echo: number }).echo)).toEqual(jobs.map((_, i) => i));
    expect(new Set(data.map((j) => j.id)).size).toBe(1_000);
    expect(await h.producer.snapshot('default', data[999]!.id)).not.toBeNull();

    await h.startWorker({ concurrency: { default: 50 } });
    await waitFor(
      'all 1,000 jobs to succeed',
      async () => {
        const res = await h.request('GET', '/v1/jobs?status=queued,running&limit=1&fields=id');
        return ((await res.json()) as { data: unknown[] }).data.length === 0;
      },
      60_000,
      250,
    );
    expect((await h.getJob(data[0]!.id)).status).toBe('succeeded');
    expect((await h.getJob(data[999]!.id)).status).toBe('succeeded');
  });

  it('rejects the whole batch when one job is invalid, naming it, and stores none', async () => {
    const before = await count();
    const res = await h.request('POST', '/v1/jobs/batch', {
      body: {
        jobs: [
          { type: 'noop', payload: {} },
          { type: 'noop', payload: { sleepMs: 'long' } },
          { type: 'nope', payload: {} },
        ],
      },
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.errors?.map((e) => e.path)).toEqual(['jobs.1.payload.sleepMs', 'jobs.2.type']);
    expect(await count()).toBe(before);
  });

  it('bounds the batch to 1,000 jobs and refuses an Idempotency-Key', async () => {
    const many = Array.from({ length: 1_001 }, () => ({ type: 'noop' }));
    const tooMany = await h.request('POST', '/v1/jobs/batch', { body: { jobs: many } });
    expect(tooMany.status).toBe(422);
    expect((await h.request('POST', '/v1/jobs/batch', { body: { jobs: [] } })).status).toBe(422);
    const keyed = await h.request('POST', '/v1/jobs/batch', {
      body: { jobs: [{ type: 'noop' }] },
      headers: { 'idempotency-key': 'k1' },
    });
    expect(keyed.status).toBe(400);
  });
});
