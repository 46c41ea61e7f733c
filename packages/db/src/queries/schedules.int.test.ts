import { uuidv7 } from '@conveyor/shared';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJobRow } from '../new-job';
import { jobs } from '../schema/index';
import { createTestDatabase, type TestDatabase } from '../testing';
import {
  createSchedule,
  deleteSchedule,
  findSchedule,
  fireSchedule,
  replaceSchedule,
  type ScheduleFields,
  scanSchedules,
} from './schedules';
import { createTenant } from './tenants';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});

afterAll(async () => {
  await t?.drop();
});

const fields: ScheduleFields = {
  name: null,
  cron: '* * * * * *',
  timezone: 'UTC',
  template: { type: 'noop', payload: { echo: 1 } },
  overlap: 'skip',
  paused: false,
};

async function newSchedule(overrides: Partial<ScheduleFields> = {}) {
  const tenantId = (await createTenant(t.db, 'schedules')).id;
  const created = await createSchedule(t.db, { ...fields, ...overrides, id: uuidv7(), tenantId }, 10);
  if (!('row' in created)) throw new Error('cap reached');
  return created.row;
}

const fire = (scheduleId: string, revision: number, scheduledFor: Date) =>
  fireSchedule(t.db, { scheduleId, revision, scheduledFor }, (s) =>
    buildJobRow(s.template as { type: string; payload: unknown }, {
      tenantId: s.tenantId,
      requestId: null,
      firing: { scheduleId: s.id, scheduledFor },
    }),
  );

describe('fireSchedule', () => {
  it('makes one job per firing, however many times the firing is delivered, and records it', async () => {
    const s = await newSchedule({ overlap: 'allow' });
    const tick = new Date(Math.floor(Date.now() / 1_000) * 1_000);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => fire(s.id, 1, tick)));
    const created = outcomes.filter((o) => o.outcome === 'created');
    expect(created).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(4);
    const row = (created[0] as { row: { id: string } }).row;
    const stored = await t.db.select().from(jobs).where(eq(jobs.scheduleId, s.id));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      id: row.id,
      scheduledFor: tick,
      payload: { echo: 1 },
      status: 'queued',
    });
    expect(await findSchedule(t.db, s.tenantId, s.id)).toMatchObject({
      lastFiredAt: tick,
      lastJobId: row.id,
    });
  });

  it('skips a firing while an earlier job of a "skip" schedule is unfinished, and not once it has finished', async () => {
    const s = await newSchedule({ overlap: 'skip' });
    const first = await fire(s.id, 1, new Date(1_700_000_000_000));
    expect(first.outcome).toBe('created');
    const firstId = (first as { row: { id: string } }).row.id;
    expect(await fire(s.id, 1, new Date(1_700_000_001_000))).toEqual({
      outcome: 'overlap',
      activeJobId: firstId,
    });
    await t.db.update(jobs).set({ status: 'canceled', finishedAt: new Date() }).where(eq(jobs.id, firstId));
    expect((await fire(s.id, 1, new Date(1_700_000_002_000))).outcome).toBe('created');
  });

  it('makes no job for a paused, changed or deleted schedule', async () => {
    const s = await newSchedule();
    const at = new Date(1_700_000_000_000);
    const replaced = await replaceSchedule(t.db, s.tenantId, s.id, { ...fields, cron: '0 * * * * *' });
    expect(replaced?.revision).toBe(2);
    expect(await fire(s.id, 1, at)).toEqual({ outcome: 'outdated' });
    await replaceSchedule(t.db, s.tenantId, s.id, { ...fields, paused: true });
    expect(await fire(s.id, 3, at)).toEqual({ outcome: 'paused' });
    expect(await deleteSchedule(t.db, s.tenantId, s.id)).toBe(true);
    expect(await fire(s.id, 3, at)).toEqual({ outcome: 'gone' });
    expect(await t.db.select().from(jobs).where(eq(jobs.scheduleId, s.id))).toEqual([]);
  });

  it('changes nothing when the template no longer builds a job', async () => {
    const s = await newSchedule({ template: { type: 'noop', payload: { sleepMs: -5 } } });
    await expect(fire(s.id, 1, new Date())).rejects.toMatchObject({ code: 'validation_failed' });
    expect((await findSchedule(t.db, s.tenantId, s.id))?.lastJobId).toBeNull();
  });
});

describe('createSchedule', () => {
  it('holds the per-tenant cap under 20 racing creates', async () => {
    const tenantId = (await createTenant(t.db, 'racing')).id;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => createSchedule(t.db, { ...fields, id: uuidv7(), tenantId }, 7)),
    );
    expect(results.filter((r) => 'row' in r)).toHaveLength(7);
    expect(results.filter((r) => 'capReached' in r)).toHaveLength(13);
  });

  it('keeps tenants apart: another tenant cannot read, replace or delete a schedule', async () => {
    const s = await newSchedule();
    const other = (await createTenant(t.db, 'other')).id;
    expect(await findSchedule(t.db, other, s.id)).toBeUndefined();
    expect(await replaceSchedule(t.db, other, s.id, fields)).toBeUndefined();
    expect(await deleteSchedule(t.db, other, s.id)).toBe(false);
    expect(await findSchedule(t.db, s.tenantId, s.id)).toMatchObject({ revision: 1 });
  });
});

describe('scanSchedules', () => {
  it('pages through every tenant’s schedules in id order', async () => {
    const all: string[] = [];
    for (let afterId: string | undefined; ; ) {
      const page = await scanSchedules(t.db, { afterId, limit: 3 });
      all.push(...page.map((p) => p.id));
      if (page.length < 3) break;
      afterId = page.at(-1)!.id;
    }
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBeGreaterThan(3);
  });
});
