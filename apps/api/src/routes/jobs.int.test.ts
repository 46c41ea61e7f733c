import { listJobs } from '@conveyor/db';
import { type JobView, MAX_PRIORITY, type Problem } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { type CallInit, useTestApp } from '../test-support';

/** POST /v1/jobs: the answer, the options, and every way a submit is rejected. */

const api = useTestApp();
const call = (method: string, path: string, init?: CallInit) => api.tenant.call(method, path, init);
const submit = (body: unknown) => api.tenant.submit(body);

const countJobs = async (tenant: string) =>
  (await listJobs(api.db, { tenantId: tenant, limit: 100 })).rows.length;

/** The millisecond at which BullMQ will release a delayed job (its delayed-set score is ms × 4096 + a counter). */
async function bullmqReleaseTime(id: string): Promise<number | null> {
  const score = await api.producer.redis.zscore(`${api.prefix}:default:delayed`, id);
  return score === null ? null : Math.floor(Number(score) / 4096);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('POST /v1/jobs', () => {
  it('answers 202 with every field of the job, a Location header naming it, and BullMQ holds the job', async () => {
    const before = Date.now();
    const res = await call('POST', '/v1/jobs', { body: { type: 'noop', payload: { sleepMs: 10 } } });
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const job = (await res.json()) as JobView;
    expect(Object.keys(job).sort()).toEqual(
      [
        'id',
        'type',
        'queue',
        'status',
        'payload',
        'result',
        'error',
        'progress',
        'attempts',
        'maxAttempts',
        'priority',
        'runAt',
        'createdAt',
        'startedAt',
        'finishedAt',
        'updatedAt',
        'scheduleId',
        'webhook',
      ].sort(),
    );
    expect(job).toMatchObject({
      type: 'noop',
      queue: 'default',
      status: 'queued',
      payload: { sleepMs: 10 },
      result: null,
      error: null,
      progress: 0,
      attempts: 0,
      maxAttempts: 3,
      priority: 0,
      startedAt: null,
      finishedAt: null,
    });
    expect(job.id).toMatch(UUID_V7);
    for (const t of [job.runAt, job.createdAt, job.updatedAt]) expect(t).toMatch(ISO_UTC);
    expect(new Date(job.createdAt).getTime()).toBeGreaterThanOrEqual(before);
    expect(new Date(job.createdAt).getTime()).toBeLessThanOrEqual(Date.now());
    expect(job.updatedAt).toBe(job.createdAt);
    expect(job.runAt).toBe(job.createdAt);
    expect(res.headers.get('location')).toBe(`/v1/jobs/${job.id}`);

    const snapshot = await api.producer.snapshot('default', job.id);
    expect(snapshot).toMatchObject({ generation: 0, state: 'pending' });

    const located = await call('GET', res.headers.get('location')!);
    expect(located.status).toBe(200);
    expect(await located.json()).toEqual(job);
  });

  it('defaults a missing payload to {}', async () => {
    const job = await submit({ type: 'noop' });
    expect(job.payload).toEqual({});
  });

  it('respects options.runAt (any offset): the job reports it and BullMQ delays the job until then', async () => {
    const runAtMs = Math.floor(Date.now() / 1000) * 1000 + 3_600_000;
    // The same instant written with a +02:00 offset.
    const withOffset = new Date(runAtMs + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const job = await submit({ type: 'noop', options: { runAt: withOffset } });
    expect(job.runAt).toBe(new Date(runAtMs).toISOString());
    expect(job.status).toBe('queued');
    const release = await bullmqReleaseTime(job.id);
    expect(release).not.toBeNull();
    expect(Math.abs(release! - runAtMs)).toBeLessThan(1_000);
  });

  it('delays a job by options.delay milliseconds', async () => {
    const job = await submit({ type: 'noop', options: { delay: 60_000 } });
    expect(new Date(job.runAt).getTime() - new Date(job.createdAt).getTime()).toBe(60_000);
    const release = await bullmqReleaseTime(job.id);
    expect(release).not.toBeNull();
    expect(Math.abs(release! - new Date(job.runAt).getTime())).toBeLessThan(1_000);
  });

  it('does not delay a job submitted without delay or runAt', async () => {
    const job = await submit({ type: 'noop' });
    expect(await bullmqReleaseTime(job.id)).toBeNull();
    expect(await api.producer.snapshot('default', job.id)).not.toBeNull();
  });

  it('runs a past runAt at once: the job reports the time given and BullMQ does not delay it', async () => {
    const job = await submit({ type: 'noop', options: { runAt: '2000-01-01T00:00:00Z' } });
    expect(job.runAt).toBe('2000-01-01T00:00:00.000Z');
    expect(await bullmqReleaseTime(job.id)).toBeNull();
    expect(await api.producer.snapshot('default', job.id)).not.toBeNull();
  });

  // Years before 100 do not read back reliably through the db layer's date parsing, so the contract bounds
  // runAt (2000 to one year ahead); a 202 would also be acceptable if the time came back as given.
  it('answers a past runAt in the years 1-99 with 202 (run now, time as given) or 422, never a 500', async () => {
    const t = await api.newTenant();
    const res = await call('POST', '/v1/jobs', {
      key: t.key,
      body: { type: 'noop', options: { runAt: '0030-06-01T00:00:00Z' } },
    });
    expect([202, 422]).toContain(res.status);
    if (res.status === 202) {
      const job = (await res.json()) as JobView;
      expect(job.runAt).toBe('0030-06-01T00:00:00.000Z');
      expect(await bullmqReleaseTime(job.id)).toBeNull();
    }
    expect((await call('GET', '/v1/jobs', { key: t.key })).status).toBe(200);
  });

  // Postgres stores years 1-9999 only; the contract rejects what cannot be stored.
  it.each(['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00'])(
    'rejects runAt %s, outside what can be stored, with 422 naming options.runAt',
    async (runAt) => {
      const res = await call('POST', '/v1/jobs', { body: { type: 'noop', options: { runAt } } });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as Problem;
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors?.map((e) => e.path)).toEqual(['options.runAt']);
    },
  );

  it('rejects delay and runAt together with 422 naming options.runAt, and stores nothing', async () => {
    const { tenantId: t, key: k } = await api.newTenant();
    const res = await call('POST', '/v1/jobs', {
      key: k,
      body: { type: 'noop', options: { delay: 1_000, runAt: new Date(Date.now() + 60_000).toISOString() } },
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors?.map((e) => e.path)).toEqual(['options.runAt']);
    expect(await countJobs(t)).toBe(0);
  });

  it('stores options.priority and hands it to BullMQ', async () => {
    const job = await submit({ type: 'noop', options: { priority: 7 } });
    expect(job.priority).toBe(7);
    expect(await api.producer.redis.hget(`${api.prefix}:default:${job.id}`, 'priority')).toBe('7');
    const top = await submit({ type: 'noop', options: { priority: MAX_PRIORITY } });
    expect(top.priority).toBe(MAX_PRIORITY);
  });

  it.each([-1, MAX_PRIORITY + 1, 1.5, '1'])(
    'rejects priority %j with 422 naming options.priority',
    async (p) => {
      const res = await call('POST', '/v1/jobs', { body: { type: 'noop', options: { priority: p } } });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as Problem;
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors?.map((e) => e.path)).toEqual(['options.priority']);
    },
  );

  it('accepts maxAttempts at its bounds 1 and 100', async () => {
    expect((await submit({ type: 'noop', options: { maxAttempts: 1 } })).maxAttempts).toBe(1);
    expect((await submit({ type: 'noop', options: { maxAttempts: 100 } })).maxAttempts).toBe(100);
  });

  it.each([0, 101, 2.5])('rejects maxAttempts %j with 422 naming options.maxAttempts', async (n) => {
    const res = await call('POST', '/v1/jobs', { body: { type: 'noop', options: { maxAttempts: n } } });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.errors?.map((e) => e.path)).toEqual(['options.maxAttempts']);
  });

  it('rejects an unknown job type with 422 validation_failed and errors[].path "type"', async () => {
    const res = await call('POST', '/v1/jobs', { body: { type: 'no.such.kind', payload: {} } });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors).toEqual([{ path: 'type', message: expect.stringContaining('no.such.kind') }]);
  });

  it.each([
    ['a string', { sleepMs: 'soon' }],
    ['above its maximum', { sleepMs: 60_001 }],
  ])(
    'rejects a payload whose sleepMs is %s with 422 and errors[].path "payload.sleepMs"',
    async (_, payload) => {
      const res = await call('POST', '/v1/jobs', { body: { type: 'noop', payload } });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as Problem;
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors?.map((e) => e.path)).toEqual(['payload.sleepMs']);
    },
  );

  it('rejects a payload with a key the kind does not know with 422', async () => {
    const res = await call('POST', '/v1/jobs', {
      body: { type: 'noop', payload: { sleepMs: 1, bogus: true } },
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toEqual(['payload.bogus']);
  });

  it('rejects an unknown top-level key with 422 and errors[].path naming it', async () => {
    const res = await call('POST', '/v1/jobs', { body: { type: 'noop', payload: {}, colour: 'blue' } });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors?.map((e) => e.path)).toEqual(['colour']);
  });

  it('rejects an unknown option with 422 naming options.<key>', async () => {
    const res = await call('POST', '/v1/jobs', { body: { type: 'noop', options: { retries: 3 } } });
    expect(res.status).toBe(422);
    expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toEqual(['options.retries']);
  });

  it('accepts a webhook url, stores it and shows it on the job', async () => {
    const res = await call('POST', '/v1/jobs', {
      body: { type: 'noop', webhook: { url: 'https://example.com/x' } },
    });
    expect(res.status).toBe(202);
    const job = (await res.json()) as JobView;
    expect(job.webhook).toEqual({ url: 'https://example.com/x' });
    const plain = (await (await call('POST', '/v1/jobs', { body: { type: 'noop' } })).json()) as JobView;
    expect(plain.webhook).toBeNull();
  });

  it('rejects a malformed, non-http(s) or credential-bearing webhook url with 422 naming webhook.url', async () => {
    for (const url of [
      'not a url',
      'ftp://example.com/x',
      'file:///etc/passwd',
      'https://user:pw@example.com/x',
      `https://example.com/${'a'.repeat(2_100)}`,
      42,
    ]) {
      const res = await call('POST', '/v1/jobs', { body: { type: 'noop', webhook: { url } } });
      expect(res.status, String(url)).toBe(422);
      expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toEqual(['webhook.url']);
    }
    const extra = await call('POST', '/v1/jobs', {
      body: { type: 'noop', webhook: { url: 'https://example.com', secret: 'x' } },
    });
    expect(((await extra.json()) as Problem).errors?.map((e) => e.path)).toEqual(['webhook.secret']);
  });

  it('persists and enqueues nothing for any rejected submit', async () => {
    const { tenantId: t, key: k } = await api.newTenant();
    const rejected: Array<[number, CallInit]> = [
      [422, { body: { type: 'nope' } }],
      [422, { body: { type: 'noop', payload: { sleepMs: -1 } } }],
      [422, { body: { type: 'noop', extra: 1 } }],
      [422, { body: { type: 'noop', options: { maxAttempts: 0 } } }],
      [400, { body: '{', headers: { 'content-type': 'application/json' } }],
      [415, { body: '{"type":"noop"}', headers: { 'content-type': 'text/plain' } }],
      [400, { body: { type: 'noop' }, headers: { 'idempotency-key': '' } }],
      [413, { body: { type: 'noop', payload: { echo: 'x'.repeat(1024 * 1024) } } }],
    ];
    for (const [status, init] of rejected) {
      const res = await call('POST', '/v1/jobs', { ...init, key: k });
      expect(res.status, JSON.stringify(init).slice(0, 80)).toBe(status);
    }
    expect(await countJobs(t)).toBe(0);
  });
});
