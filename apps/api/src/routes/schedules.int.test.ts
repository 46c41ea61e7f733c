import { createProducer, createScheduleMirror } from '@conveyor/queue';
import { testPrefix } from '@conveyor/queue/testing';
import { createLogger, type Problem, type ScheduleView } from '@conveyor/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { problemWithoutRequestId, send, type TestTenant, useTestApp } from '../test-support';

/** /v1/schedules against real Postgres and Redis: CRUD, validation, scopes, isolation, the Redis mirror. */

const api = useTestApp({ maxSchedulesPerTenant: 3 });
const mirror = () => createScheduleMirror(api.producer);

const valid = {
  name: 'nightly noop',
  cron: '0 30 2 * * *',
  timezone: 'Europe/Berlin',
  template: { type: 'noop', payload: { sleepMs: 5 }, options: { maxAttempts: 2 } },
};

async function create(t: TestTenant, body: unknown = valid): Promise<ScheduleView> {
  const res = await t.call('POST', '/v1/schedules', { body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as ScheduleView;
}

async function problemPaths(res: Response): Promise<string[]> {
  expect(res.status, await res.clone().text()).toBe(422);
  const body = (await res.json()) as Problem;
  expect(body.code).toBe('validation_failed');
  return (body.errors ?? []).map((e) => e.path);
}

describe('POST /v1/schedules', () => {
  it('answers 201 with the schedule, a Location, the next run in its time zone, and mirrors it in Redis', async () => {
    const t = await api.newTenant();
    const res = await t.call('POST', '/v1/schedules', { body: valid });
    expect(res.status).toBe(201);
    const s = (await res.json()) as ScheduleView;
    expect(res.headers.get('location')).toBe(`/v1/schedules/${s.id}`);
    expect(Object.keys(s).sort()).toEqual(
      [
        'id',
        'name',
        'cron',
        'timezone',
        'template',
        'overlap',
        'paused',
        'nextRunAt',
        'lastFiredAt',
        'lastJobId',
        'createdAt',
        'updatedAt',
      ].sort(),
    );
    expect(s).toMatchObject({
      name: 'nightly noop',
      cron: '0 30 2 * * *',
      timezone: 'Europe/Berlin',
      template: valid.template,
      overlap: 'skip',
      paused: false,
      lastFiredAt: null,
      lastJobId: null,
    });
    // 02:30 in Berlin is 00:30 or 01:30 UTC (summer or winter time), and within the next day.
    const next = new Date(s.nextRunAt!);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    expect(['00:30', '01:30']).toContain(next.toISOString().slice(11, 16));
    expect((await mirror().list()).get(s.id)).toBe(1);
  });

  it('takes five-field crons, defaults the zone to UTC and stores a zone in its canonical spelling', async () => {
    const t = await api.newTenant();
    const a = await create(t, { cron: '*/5 * * * *', template: { type: 'noop' } });
    expect(a).toMatchObject({ timezone: 'UTC', name: null, overlap: 'skip', paused: false });
    expect(new Date(a.nextRunAt!).getUTCMinutes() % 5).toBe(0);
    const b = await create(t, { ...valid, timezone: 'america/new_york', overlap: 'allow' });
    expect(b).toMatchObject({ timezone: 'America/New_York', overlap: 'allow' });
  });

  it.each([
    ['a six-field cron with an out-of-range second', { cron: '61 * * * * *' }, ['cron']],
    ['seven fields', { cron: '* * * * * * *' }, ['cron']],
    ['four fields', { cron: '* * * *' }, ['cron']],
    ['an alias', { cron: '@daily' }, ['cron']],
    ['an empty cron', { cron: '' }, ['cron']],
    ['a cron that never fires', { cron: '0 0 30 2 *' }, ['cron']],
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, ['timezone']],
    ['a time zone that is not a name', { timezone: '../../etc/passwd' }, ['timezone']],
    ['an unknown overlap policy', { overlap: 'queue' }, ['overlap']],
    ['an unknown field', { every: 5 }, ['every']],
    ['an unknown job type', { template: { type: 'video.encode' } }, ['template.type']],
    [
      'a payload the kind rejects',
      { template: { type: 'noop', payload: { sleepMs: -1 } } },
      ['template.payload.sleepMs'],
    ],
    [
      'a fixed runAt in the template',
      { template: { type: 'noop', options: { runAt: new Date(Date.now() + 60_000).toISOString() } } },
      ['template.options.runAt'],
    ],
    ['a missing template', { template: undefined }, ['template']],
  ])('refuses %s with 422 validation_failed naming the field', async (_what, change, paths) => {
    const res = await api.tenant.call('POST', '/v1/schedules', { body: { ...valid, ...change } });
    expect(await problemPaths(res)).toEqual(paths);
  });

  it('refuses a create beyond the per-tenant cap with 422 and keeps the count at the cap', async () => {
    const t = await api.newTenant();
    for (let i = 0; i < 3; i++) await create(t);
    const res = await t.call('POST', '/v1/schedules', { body: valid });
    expect(res.status).toBe(422);
    const body = (await res.json()) as Problem;
    expect(body.code).toBe('validation_failed');
    expect(body.detail).toContain('3 schedules');
    const list = (await (await t.call('GET', '/v1/schedules')).json()) as { data: ScheduleView[] };
    expect(list.data).toHaveLength(3);
  });

  it('answers 415 and 400 for a body that is not JSON', async () => {
    const notJson = await api.tenant.call('POST', '/v1/schedules', {
      raw: 'cron=*',
      headers: { 'content-type': 'text/plain' },
    });
    expect(notJson.status).toBe(415);
    const broken = await api.tenant.call('POST', '/v1/schedules', {
      raw: '{"cron":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
  });
});

describe('GET /v1/schedules', () => {
  it('lists newest first, pages with limit and an opaque cursor, and sets Link rel="next"', async () => {
    const t = await api.newTenant();
    const made = [await create(t), await create(t), await create(t)];
    const first = await t.call('GET', '/v1/schedules?limit=2');
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { data: ScheduleView[]; nextCursor: string | null };
    expect(page1.data.map((s) => s.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(page1.nextCursor).toBeTruthy();
    expect(first.headers.get('link')).toContain('rel="next"');
    const page2 = (await (
      await t.call('GET', `/v1/schedules?limit=2&cursor=${page1.nextCursor}`)
    ).json()) as { data: ScheduleView[]; nextCursor: string | null };
    expect(page2.data.map((s) => s.id)).toEqual([made[0]!.id]);
    expect(page2.nextCursor).toBeNull();
  });

  it.each([['limit=0'], ['limit=101'], ['cursor=not-a-cursor'], ['status=queued']])(
    'answers 400 invalid_parameter for %s',
    async (query) => {
      const res = await api.tenant.call('GET', `/v1/schedules?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Problem).code).toBe('invalid_parameter');
    },
  );
});

describe('GET, PUT and DELETE /v1/schedules/{id}', () => {
  it('reads one schedule', async () => {
    const t = await api.newTenant();
    const s = await create(t);
    const res = await t.call('GET', `/v1/schedules/${s.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: s.id, cron: s.cron, template: s.template });
  });

  it('replaces a schedule: omitted fields take their defaults, the mirror gets the new revision', async () => {
    const t = await api.newTenant();
    const s = await create(t);
    const res = await t.call('PUT', `/v1/schedules/${s.id}`, {
      body: { cron: '*/10 * * * *', template: { type: 'noop', payload: { sleepMs: 1 } } },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const replaced = (await res.json()) as ScheduleView;
    expect(replaced).toMatchObject({
      id: s.id,
      name: null,
      cron: '*/10 * * * *',
      timezone: 'UTC',
      template: { type: 'noop', payload: { sleepMs: 1 } },
      createdAt: s.createdAt,
    });
    expect(new Date(replaced.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(s.updatedAt).getTime());
    expect((await mirror().list()).get(s.id)).toBe(2);
  });

  it('pauses a schedule: no next run, no scheduler in Redis; resuming brings both back', async () => {
    const t = await api.newTenant();
    const s = await create(t);
    const paused = await t.call('PUT', `/v1/schedules/${s.id}`, {
      body: { ...valid, paused: true },
    });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ paused: true, nextRunAt: null });
    expect((await mirror().list()).has(s.id)).toBe(false);
    const resumed = await t.call('PUT', `/v1/schedules/${s.id}`, { body: valid });
    expect(((await resumed.json()) as ScheduleView).nextRunAt).not.toBeNull();
    expect((await mirror().list()).get(s.id)).toBe(3);
  });

  it('validates a replacement like a create', async () => {
    const t = await api.newTenant();
    const s = await create(t);
    const res = await t.call('PUT', `/v1/schedules/${s.id}`, {
      body: { ...valid, cron: 'every minute', timezone: 'Nowhere/Else' },
    });
    expect((await problemPaths(res)).sort()).toEqual(['cron', 'timezone']);
  });

  it('deletes a schedule (204), removes its scheduler, and then answers 404', async () => {
    const t = await api.newTenant();
    const s = await create(t);
    expect((await mirror().list()).has(s.id)).toBe(true);
    const res = await t.call('DELETE', `/v1/schedules/${s.id}`);
    expect(res.status).toBe(204);
    expect((await mirror().list()).has(s.id)).toBe(false);
    expect((await t.call('GET', `/v1/schedules/${s.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/v1/schedules/${s.id}`)).status).toBe(404);
  });
});

describe('scopes', () => {
  it('lets jobs:read read but not write, schedules:write do both, and jobs:write neither', async () => {
    const owner = await api.newTenant();
    const s = await create(owner);
    const reader = await api.newKey(owner.tenantId, ['jobs:read']);
    const scheduler = await api.newKey(owner.tenantId, ['schedules:write']);
    const submitter = await api.newKey(owner.tenantId, ['jobs:write']);
    const as = (key: string, method: string, path: string, body?: unknown) =>
      owner.call(method, path, { key, ...(body === undefined ? {} : { body }) });

    expect((await as(reader.key, 'GET', '/v1/schedules')).status).toBe(200);
    expect((await as(reader.key, 'GET', `/v1/schedules/${s.id}`)).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/v1/schedules', valid],
      ['PUT', `/v1/schedules/${s.id}`, valid],
      ['DELETE', `/v1/schedules/${s.id}`, undefined],
    ] as const) {
      const res = await as(reader.key, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(((await res.json()) as Problem).code).toBe('forbidden');
      expect((await as(submitter.key, method, path, body)).status, `${method} ${path}`).toBe(403);
    }
    expect((await as(submitter.key, 'GET', '/v1/schedules')).status).toBe(403);
    expect((await as(submitter.key, 'GET', `/v1/schedules/${s.id}`)).status).toBe(403);

    expect((await as(scheduler.key, 'GET', `/v1/schedules/${s.id}`)).status).toBe(200);
    expect((await as(scheduler.key, 'PUT', `/v1/schedules/${s.id}`, valid)).status).toBe(200);
    expect((await as(scheduler.key, 'DELETE', `/v1/schedules/${s.id}`)).status).toBe(204);
  });

  it('answers 401 without a key', async () => {
    expect((await api.call('GET', '/v1/schedules')).status).toBe(401);
    expect((await api.call('POST', '/v1/schedules', { body: valid })).status).toBe(401);
  });
});

describe('tenant isolation', () => {
  it("answers another tenant's schedule exactly like a random id, and leaves it untouched", async () => {
    const owner = await api.newTenant();
    const other = await api.newTenant();
    const s = await create(owner);
    const random = '01930000-0000-7000-8000-000000000000';
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', valid],
      ['DELETE', undefined],
    ] as const) {
      const init = body === undefined ? {} : { body };
      const theirs = await problemWithoutRequestId(await other.call(method, `/v1/schedules/${s.id}`, init));
      const unknown = await problemWithoutRequestId(
        await other.call(method, `/v1/schedules/${random}`, init),
      );
      const malformed = await problemWithoutRequestId(await other.call(method, '/v1/schedules/nope', init));
      expect(theirs.status, method).toBe(404);
      expect(theirs).toEqual(unknown);
      expect(theirs).toEqual(malformed);
    }
    const list = (await (await other.call('GET', '/v1/schedules')).json()) as { data: ScheduleView[] };
    expect(list.data).toEqual([]);
    const still = await owner.call('GET', `/v1/schedules/${s.id}`);
    expect(await still.json()).toMatchObject({ id: s.id, cron: valid.cron, paused: false });
  });
});

describe('with Redis down', () => {
  // A producer on a port nothing listens on: every Redis call fails at once, as when Redis is down.
  const deadProducer = createProducer({ redisUrl: 'redis://127.0.0.1:1', prefix: testPrefix() });
  afterAll(() => deadProducer.close());

  it('still creates, replaces and deletes schedules (Postgres is the record; the reconciler repairs Redis)', async () => {
    const app = createApp({
      db: api.db,
      producer: deadProducer,
      log: createLogger({ name: 'test', level: 'silent' }),
      store: api.store,
      authCacheTtlMs: 0,
    });
    const t = await api.newTenant();
    const created = await send(app, 'POST', '/v1/schedules', { key: t.key, body: valid });
    expect(created.status, await created.clone().text()).toBe(201);
    const s = (await created.json()) as ScheduleView;
    const replaced = await send(app, 'PUT', `/v1/schedules/${s.id}`, {
      key: t.key,
      body: { ...valid, paused: true },
    });
    expect(replaced.status).toBe(200);
    expect((await send(app, 'GET', `/v1/schedules/${s.id}`, { key: t.key })).status).toBe(200);
    expect((await send(app, 'DELETE', `/v1/schedules/${s.id}`, { key: t.key })).status).toBe(204);
  });
});
