import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../schema/index';
import { newJob } from '../test-factories';
import { createTestDatabase, type TestDatabase } from '../testing';
import { listJobEvents } from './job-events';
import { completeAttempt, startAttempt } from './job-runs';
import { completeAttempts, startAttempts } from './job-runs-batched';
import { insertJob, requestCancel } from './jobs';
import { createTenant } from './tenants';

let t: TestDatabase;
let tenantId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  tenantId = (await createTenant(t.db, 'job-runs-batched')).id;
});

afterAll(async () => {
  await t?.drop();
});

const queuedJob = async (overrides: Parameters<typeof newJob>[1] = {}) =>
  (await insertJob(t.db, newJob(tenantId, overrides))).row;

async function rowOf(id: string) {
  const [row] = await t.db.select().from(jobs).where(eq(jobs.id, id));
  return row!;
}

describe('batched starts and completions', () => {
  it('starts only the rows whose own conditions hold, exactly as startAttempt would', async () => {
    const ok = await queuedJob();
    const stale = await queuedJob();
    const canceled = await queuedJob();
    const spent = await queuedJob({ maxAttempts: 1, attempts: 1 });
    await requestCancel(t.db, tenantId, canceled.id);
    const twin = await queuedJob();

    const started = await startAttempts(t.db, [
      { id: ok.id, generation: 0 },
      { id: stale.id, generation: 7 },
      { id: canceled.id, generation: 0 },
      { id: spent.id, generation: 0 },
    ]);
    expect([...started.keys()]).toEqual([ok.id]);
    const row = started.get(ok.id)!;
    expect(row).toEqual(await rowOf(ok.id));
    expect(row).toMatchObject({ status: 'running', attempts: 1, fence: 1, progress: 0 });

    // The same start through the single-row path gives the same row shape.
    const single = await startAttempt(t.db, twin.id, 0);
    expect(single.kind).toBe('run');
    if (single.kind === 'run') expect(Object.keys(single.row).sort()).toEqual(Object.keys(row).sort());
    expect((await listJobEvents(t.db, tenantId, ok.id)).map((e) => e.type)).toEqual(['queued', 'running']);
  });

  it('completes only attempts whose fence still holds; results and their absence read back as through drizzle', async () => {
    const a = await queuedJob();
    const b = await queuedJob();
    const c = await queuedJob();
    const started = await startAttempts(
      t.db,
      [a, b, c].map((j) => ({ id: j.id, generation: 0 })),
    );
    const fence = (id: string) => started.get(id)!.fence;
    const done = await completeAttempts(t.db, [
      { id: a.id, fence: fence(a.id), result: { n: 1, s: 'é\u2028"' } },
      { id: b.id, fence: fence(b.id), result: undefined },
      { id: c.id, fence: fence(c.id) + 1, result: { late: true } },
    ]);
    expect([...done].sort()).toEqual([a.id, b.id].sort());
    expect(await rowOf(a.id)).toMatchObject({
      status: 'succeeded',
      result: { n: 1, s: 'é\u2028"' },
      progress: 100,
    });
    expect((await rowOf(b.id)).result).toBeNull();
    expect((await rowOf(c.id)).status).toBe('running');
    // The stale fence changed nothing; the right one still can, once.
    expect(await completeAttempt(t.db, { id: c.id, fence: fence(c.id), result: 1 })).toBe(true);
    expect(await completeAttempts(t.db, [{ id: c.id, fence: fence(c.id), result: 2 }])).toEqual(new Set());
  });
});
