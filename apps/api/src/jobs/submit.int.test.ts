import { IDEMPOTENCY_WINDOW_HOURS, insertJob, listJobs } from '@conveyor/db';
import { type JobView, type Problem, uuidv7 } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../test-support';

/** Idempotent submits: POST /v1/jobs with an Idempotency-Key. */

const api = useTestApp();

/** A tenant of its own per test, so row counts are exact. */
async function newTenant() {
  const t = await api.newTenant();
  const submit = (body: unknown, idempotencyKey?: string) =>
    t.call('POST', '/v1/jobs', {
      body,
      headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
    });
  const rows = async () => (await listJobs(api.db, { tenantId: t.tenantId, limit: 100 })).rows;
  return { tenantId: t.tenantId, key: t.key, call: t.call, submit, rows };
}

const BODY = { type: 'noop', payload: { sleepMs: 5, echo: { a: 1, b: [1, 2] } }, options: { priority: 3 } };

describe('Idempotency-Key', () => {
  it('answers a repeat of the same key and body with the same job: 202, Idempotent-Replayed, identical body', async () => {
    const t = await newTenant();
    const first = await t.submit(BODY, 'order-42');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstText = await first.text();

    const second = await t.submit(BODY, 'order-42');
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(await second.text()).toBe(firstText);
    expect(await t.rows()).toHaveLength(1);
  });

  it('treats bodies that differ only in key order and spacing as the same request', async () => {
    const t = await newTenant();
    const first = (await (await t.submit(BODY, 'k')).json()) as JobView;
    const reordered = `{ "options": {"priority": 3}, "payload": {"echo": {"b": [1,2], "a": 1}, "sleepMs": 5},
      "type": "noop" }`;
    const again = await t.submit(reordered, 'k');
    expect(again.status).toBe(202);
    expect(((await again.json()) as JobView).id).toBe(first.id);
  });

  it('answers a replay with the job as first accepted even after it has changed', async () => {
    const t = await newTenant();
    const first = await t.submit(BODY, 'then-canceled');
    const firstText = await first.text();
    const { id } = JSON.parse(firstText) as JobView;
    const cancel = await t.call('POST', `/v1/jobs/${id}/cancel`);
    expect(cancel.status).toBe(202);
    const replay = await t.submit(BODY, 'then-canceled');
    expect(replay.status).toBe(202);
    expect(await replay.text()).toBe(firstText);
  });

  it('creates exactly one job when 20 requests with one key race, and all of them answer its id', async () => {
    const t = await newTenant();
    const responses = await Promise.all(Array.from({ length: 20 }, () => t.submit(BODY, 'race')));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    const ids = new Set(bodies.map((b) => (JSON.parse(b) as JobView).id));
    expect(ids.size).toBe(1);
    expect(new Set(bodies).size).toBe(1);
    const replayed = responses.filter((r) => r.headers.get('idempotent-replayed') === 'true');
    expect(replayed).toHaveLength(19);
    const rows = await t.rows();
    expect(rows.map((r) => r.id)).toEqual([...ids]);
    expect(await api.producer.snapshot('default', rows[0]!.id)).not.toBeNull();
  });

  it('answers 422 idempotency_key_reused for the same key with a different body, and stores nothing new', async () => {
    const t = await newTenant();
    expect((await t.submit(BODY, 'reused')).status).toBe(202);
    const res = await t.submit({ ...BODY, payload: { sleepMs: 6 } }, 'reused');
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as Problem).code).toBe('idempotency_key_reused');
    expect(await t.rows()).toHaveLength(1);
  });

  it('keeps keys per tenant: another tenant may use the same key for its own job', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const fromA = await a.submit(BODY, 'shared-key');
    const fromB = await b.submit(BODY, 'shared-key');
    expect(fromB.status).toBe(202);
    expect(fromB.headers.get('idempotent-replayed')).toBeNull();
    const jobA = (await fromA.json()) as JobView;
    const jobB = (await fromB.json()) as JobView;
    expect(jobB.id).not.toBe(jobA.id);
    expect((await b.rows()).map((r) => r.id)).toEqual([jobB.id]);
    // A different body under the same key is no conflict across tenants either.
    expect((await b.submit({ type: 'noop' }, 'other-tenant-key')).status).toBe(202);
    expect((await a.submit(BODY, 'other-tenant-key')).status).toBe(202);
  });

  it('creates separate jobs for submits without a key, and for different keys', async () => {
    const t = await newTenant();
    const ids = new Set<string>();
    for (const k of [undefined, undefined, 'one', 'two']) {
      const res = await t.submit(BODY, k);
      expect(res.status).toBe(202);
      ids.add(((await res.json()) as JobView).id);
    }
    expect(ids.size).toBe(4);
  });

  /** A job that took `key` `hoursAgo` hours ago, as an earlier submit would have left it. */
  async function jobTakenHoursAgo(tenant: string, key: string, hoursAgo: number) {
    const createdAt = new Date(Date.now() - hoursAgo * 3_600_000);
    const { row } = await insertJob(api.db, {
      id: uuidv7(),
      tenantId: tenant,
      type: 'noop',
      queue: 'default',
      status: 'queued',
      payload: {},
      maxAttempts: 3,
      timeoutMs: 120_000,
      runAt: createdAt,
      idempotencyKey: key,
      requestHash: 'hash-of-another-body',
      createdAt,
      updatedAt: createdAt,
    });
    return row;
  }

  it(`still holds a key just inside the ${IDEMPOTENCY_WINDOW_HOURS} h window`, async () => {
    const t = await newTenant();
    await jobTakenHoursAgo(t.tenantId, 'recent', IDEMPOTENCY_WINDOW_HOURS - 1);
    const res = await t.submit(BODY, 'recent');
    expect(res.status).toBe(422);
    expect(((await res.json()) as Problem).code).toBe('idempotency_key_reused');
  });

  it(`forgets a key ${IDEMPOTENCY_WINDOW_HOURS} h after its job was created: it then starts a new job`, async () => {
    const t = await newTenant();
    const old = await jobTakenHoursAgo(t.tenantId, 'stale', IDEMPOTENCY_WINDOW_HOURS + 1);
    const res = await t.submit(BODY, 'stale');
    expect(res.status).toBe(202);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    const job = (await res.json()) as JobView;
    expect(job.id).not.toBe(old.id);
    expect((await t.rows()).map((r) => r.id).sort()).toEqual([job.id, old.id].sort());
    // The new job holds the key now.
    expect((await t.submit(BODY, 'stale')).headers.get('idempotent-replayed')).toBe('true');
  });

  it('does not burn a key on a rejected request: a later valid body with that key creates the job', async () => {
    const t = await newTenant();
    const bad = await t.submit({ type: 'noop', payload: { sleepMs: 'x' } }, 'retry-me');
    expect(bad.status).toBe(422);
    const good = await t.submit(BODY, 'retry-me');
    expect(good.status).toBe(202);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it('accepts a key of 255 printable ASCII characters, spaces and symbols included', async () => {
    const t = await newTenant();
    const longest = `a b~!${'x'.repeat(250)}`;
    expect(longest).toHaveLength(255);
    expect((await t.submit(BODY, longest)).status).toBe(202);
    expect((await t.submit(BODY, longest)).headers.get('idempotent-replayed')).toBe('true');
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['non-ASCII', 'café-1'],
    ['a control character', 'a\tb'],
  ])('answers 400 invalid_parameter for a malformed key (%s) and stores nothing', async (_, bad) => {
    const t = await newTenant();
    const res = await t.submit(BODY, bad);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('invalid_parameter');
    expect(problem.errors?.map((e) => e.path)).toEqual(['Idempotency-Key']);
    expect(await t.rows()).toHaveLength(0);
  });
});
