import { findJob, findTenant, insertJobs, type JobRow, upsertArtifact } from '@conveyor/db';
import { jobEvents, tenants } from '@conveyor/db/schema';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { type JobView, uuidv7 } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from './app';
import { send, useTestApp } from './test-support';

/**
 * DATABASE_READ_URL: the "replica" is a second database holding what a lagging replica would — some jobs
 * missing, others in an older or simply different state — so every answer shows which database it came from.
 */

const api = useTestApp();
let replica: TestDatabase;

beforeAll(async () => {
  replica = await createTestDatabase();
});
afterAll(async () => {
  await replica?.drop();
});

/** Copies the tenant and `row` (changed by `patch`) into the replica. */
async function mirror(row: JobRow, patch: Partial<JobRow> = {}) {
  const tenant = await findTenant(api.db, row.tenantId);
  await replica.db.insert(tenants).values(tenant!).onConflictDoNothing();
  await insertJobs(replica.db, [{ ...row, ...patch }]);
}

const succeededOnReplica = (row: JobRow): Partial<JobRow> => ({
  status: 'succeeded',
  attempts: 1,
  result: { from: 'replica' },
  startedAt: new Date(),
  finishedAt: new Date(),
  version: row.version + 2,
});

const call = (
  app: App,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
) => send(app, method, path, { ...init, key: api.tenant.key });
const view = async (res: Response) => {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as JobView;
};

describe('DATABASE_READ_URL (AppDeps.readDb)', () => {
  it('serves lookups, lists, events and artifact lists from the replica', async () => {
    const app = api.build({ readDb: replica.db, readCache: false });
    const job = await api.tenant.submit({ type: 'noop', payload: { echo: 'primary' } });
    const row = (await findJob(api.db, api.tenant.tenantId, job.id))!;
    await mirror(row, succeededOnReplica(row));
    await replica.db
      .insert(jobEvents)
      .values({ jobId: job.id, tenantId: row.tenantId, type: 'replica-only' });
    await upsertArtifact(replica.db, {
      tenantId: row.tenantId,
      jobId: job.id,
      name: 'replica.txt',
      contentType: 'text/plain',
      bytes: 1,
      sha256: '0'.repeat(64),
      storageKey: 'nowhere',
      metadata: {},
      expiresAt: new Date(Date.now() + 3_600_000),
    });

    const got = await view(await call(app, 'GET', `/v1/jobs/${job.id}`));
    expect(got).toMatchObject({ status: 'succeeded', result: { from: 'replica' } });
    const list = await call(app, 'GET', `/v1/jobs?ids=${job.id}`);
    expect(((await list.json()) as { data: JobView[] }).data.map((j) => j.status)).toEqual(['succeeded']);
    const events = await call(app, 'GET', `/v1/jobs/${job.id}/events`);
    // The replica's timeline: the event its own trigger wrote for the row as inserted, then the one added.
    expect(((await events.json()) as { data: { type: string }[] }).data.map((e) => e.type)).toEqual([
      'succeeded',
      'replica-only',
    ]);
    const artifacts = await call(app, 'GET', `/v1/jobs/${job.id}/artifacts`);
    expect(artifacts.status).toBe(200);
    expect(((await artifacts.json()) as { data: { name: string }[] }).data.map((a) => a.name)).toEqual([
      'replica.txt',
    ]);

    // The same requests without a replica answer the primary's state: the difference is readDb's doing.
    const primaryOnly = api.build({ readCache: false });
    expect((await view(await call(primaryOnly, 'GET', `/v1/jobs/${job.id}`))).status).toBe('queued');
    const primaryEvents = await call(primaryOnly, 'GET', `/v1/jobs/${job.id}/events`);
    expect(
      ((await primaryEvents.json()) as { data: { type: string }[] }).data.map((e) => e.type),
    ).not.toContain('replica-only');
  });

  it('falls back to the primary for a job the replica does not have yet; lists show the lag', async () => {
    const app = api.build({ readDb: replica.db, readCache: false });
    const res = await call(app, 'POST', '/v1/jobs', { body: { type: 'noop' } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as JobView;
    expect((await view(await call(app, 'GET', `/v1/jobs/${id}`))).status).toBe('queued');
    const events = await call(app, 'GET', `/v1/jobs/${id}/events`);
    expect(events.status).toBe(200);
    expect(((await events.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
    expect((await call(app, 'GET', `/v1/jobs/${id}/artifacts`)).status).toBe(200);
    // Neither has it: the same 404 as ever.
    expect((await call(app, 'GET', `/v1/jobs/${uuidv7()}`)).status).toBe(404);
    expect((await call(app, 'GET', `/v1/jobs/${uuidv7()}/events`)).status).toBe(404);
    // A list cannot tell a missing row from one that does not exist: it answers the replica's view.
    const list = await call(app, 'GET', `/v1/jobs?ids=${id}`);
    expect(((await list.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it('keeps submits, idempotent replays, cancels and retries on the primary', async () => {
    const app = api.build({ readDb: replica.db, readCache: false });
    const headers = { 'idempotency-key': `replica-${uuidv7()}` };
    const first = await call(app, 'POST', '/v1/jobs', {
      body: { type: 'noop', payload: { echo: 1 } },
      headers,
    });
    const again = await call(app, 'POST', '/v1/jobs', {
      body: { type: 'noop', payload: { echo: 1 } },
      headers,
    });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const { id } = (await first.json()) as JobView;
    expect(((await again.json()) as JobView).id).toBe(id);

    // On the replica the job looks finished; the primary, where cancel and retry act, has it queued.
    const row = (await findJob(api.db, api.tenant.tenantId, id))!;
    await mirror(row, succeededOnReplica(row));
    const canceled = await call(app, 'POST', `/v1/jobs/${id}/cancel`);
    expect(canceled.status, await canceled.clone().text()).toBe(202);
    expect(((await canceled.json()) as JobView).status).toBe('canceled');
    const retried = await call(app, 'POST', `/v1/jobs/${id}/retry`);
    expect(retried.status, await retried.clone().text()).toBe(202);
    expect((await findJob(api.db, api.tenant.tenantId, id))!.status).toBe('queued');
    expect((await findJob(replica.db, api.tenant.tenantId, id))!.status).toBe('succeeded');
  });

  it('fills the Redis read cache from the primary only', async () => {
    const app = api.build({ readDb: replica.db });
    const job = await api.tenant.submit({ type: 'noop' });
    const row = (await findJob(api.db, api.tenant.tenantId, job.id))!;
    await mirror(row, succeededOnReplica(row));
    const fills = api.producer.jobCache.stats.fills;
    expect((await view(await call(app, 'GET', `/v1/jobs/${job.id}`))).status).toBe('queued');
    expect(api.producer.jobCache.stats.fills).toBe(fills + 1);
    // Served from the cache now, still the primary's view.
    expect((await view(await call(app, 'GET', `/v1/jobs/${job.id}`))).status).toBe('queued');
  });

  it('re-reads the primary when a long poll wakes, not the lagging replica', async () => {
    const app = api.build({ readDb: replica.db, readCache: false });
    const job = await api.tenant.submit({ type: 'noop', options: { delay: 60_000 } });
    await mirror((await findJob(api.db, api.tenant.tenantId, job.id))!);
    const started = Date.now();
    const poll = call(app, 'GET', `/v1/jobs/${job.id}?wait=15`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call(app, 'POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    // The replica never sees the cancel; the poll still answers it, well before its 15 s.
    expect((await view(await poll)).status).toBe('canceled');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await findJob(replica.db, api.tenant.tenantId, job.id))!.status).toBe('queued');
  });
});
