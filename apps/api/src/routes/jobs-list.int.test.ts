import { completeAttempt, failAttempt, startAttempt } from '@conveyor/db';
import { type JobView, type Problem, uuidv7 } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../test-support';

/** GET /v1/jobs: order, filters, sparse fields, limits and keyset pagination. */

const api = useTestApp();

interface Page {
  data: Partial<JobView>[];
  nextCursor: string | null;
}

/** A tenant of its own, so each test sees exactly the jobs it made. */
async function newTenant() {
  const t = await api.newTenant();
  const get = (path: string) => t.call('GET', path);
  const submitMany = async (n: number) => {
    const jobs: JobView[] = [];
    for (let i = 0; i < n; i++) jobs.push(await t.submit({ type: 'noop', payload: { echo: i } }));
    return jobs;
  };
  const list = async (query = ''): Promise<{ res: Response; page: Page }> => {
    const res = await get(`/v1/jobs${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return { res, page: (await res.json()) as Page };
  };
  return { ...t, get, submitMany, list };
}

const newestFirst = (jobs: JobView[]) => jobs.map((j) => j.id).reverse();
const idsOf = (page: Page) => page.data.map((j) => j.id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function expectInvalidParameter(res: Response, path?: string) {
  expect(res.status).toBe(400);
  const problem = (await res.json()) as Problem;
  expect(problem.code).toBe('invalid_parameter');
  if (path) expect(problem.errors?.map((e) => e.path)).toContain(path);
}

describe('GET /v1/jobs', () => {
  it("lists only the caller's jobs, newest first, with no next page when all fit", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const mine = await t.submitMany(4);
    await other.submitMany(2);
    const { res, page } = await t.list();
    expect(idsOf(page)).toEqual(newestFirst(mine));
    expect(page.data[0]).toEqual(mine[3]);
    expect(page.nextCursor).toBeNull();
    expect(res.headers.get('link')).toBeNull();
  });

  it('filters by one status and by a comma list of statuses', async () => {
    const t = await newTenant();
    const [queued, canceled, running, failed, succeeded] = await t.submitMany(5);
    const cancelRes = await t.call('POST', `/v1/jobs/${canceled!.id}/cancel`);
    expect(cancelRes.status).toBe(202);
    expect((await startAttempt(api.db, running!.id, 0)).kind).toBe('run');
    const f = await startAttempt(api.db, failed!.id, 0);
    if (f.kind !== 'run') throw new Error('could not start');
    await failAttempt(api.db, {
      id: failed!.id,
      fence: f.row.fence,
      error: { code: 'x', message: 'x' },
      retryAt: null,
    });
    const s = await startAttempt(api.db, succeeded!.id, 0);
    if (s.kind !== 'run') throw new Error('could not start');
    await completeAttempt(api.db, { id: succeeded!.id, fence: s.row.fence, result: {} });

    expect(idsOf((await t.list('?status=queued')).page)).toEqual([queued!.id]);
    expect(idsOf((await t.list('?status=running')).page)).toEqual([running!.id]);
    expect(idsOf((await t.list('?status=failed,canceled')).page)).toEqual([failed!.id, canceled!.id]);
    expect(idsOf((await t.list('?status=succeeded,%20queued')).page)).toEqual([succeeded!.id, queued!.id]);
    expect((await t.list('?status=retrying')).page.data).toEqual([]);
  });

  it.each(['bogus', 'queued,', 'queued,,failed', ''])(
    'rejects status=%j with 400 naming status',
    async (s) => {
      const t = await newTenant();
      await expectInvalidParameter(await t.get(`/v1/jobs?status=${s}`), 'status');
    },
  );

  it('filters by type and by queue', async () => {
    const t = await newTenant();
    const jobs = await t.submitMany(2);
    expect(idsOf((await t.list('?type=noop')).page)).toEqual(newestFirst(jobs));
    expect((await t.list('?type=email.send')).page.data).toEqual([]);
    expect(idsOf((await t.list('?queue=default')).page)).toEqual(newestFirst(jobs));
    expect((await t.list('?queue=emails')).page.data).toEqual([]);
    expect(idsOf((await t.list('?type=noop&queue=default&status=queued')).page)).toEqual(newestFirst(jobs));
  });

  it('filters by createdAfter (inclusive) and createdBefore (exclusive)', async () => {
    const t = await newTenant();
    // A few ms between jobs: the date filters work at millisecond precision.
    const early = [await t.submit()];
    await sleep(3);
    early.push(await t.submit());
    await sleep(5);
    const boundary = new Date();
    await sleep(5);
    const late = await t.submitMany(2);
    const at = encodeURIComponent(boundary.toISOString());
    expect(idsOf((await t.list(`?createdAfter=${at}`)).page)).toEqual(newestFirst(late));
    expect(idsOf((await t.list(`?createdBefore=${at}`)).page)).toEqual(newestFirst(early));
    const from = encodeURIComponent(early[1]!.createdAt);
    expect(idsOf((await t.list(`?createdAfter=${from}&createdBefore=${at}`)).page)).toEqual([early[1]!.id]);
    // An offset other than Z names the same instant.
    const plus2 = new Date(boundary.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    expect(idsOf((await t.list(`?createdAfter=${encodeURIComponent(plus2)}`)).page)).toEqual(
      newestFirst(late),
    );
  });

  it.each(['type', 'queue'])('rejects %s holding U+0000 with 400 naming it (not a 500)', async (name) => {
    const t = await newTenant();
    await expectInvalidParameter(await t.get(`/v1/jobs?${name}=no%00de`), name);
  });

  it.each(['yesterday', '2024-13-01T00:00:00Z', '1700000000'])(
    'rejects createdAfter=%j with 400',
    async (v) => {
      const t = await newTenant();
      await expectInvalidParameter(await t.get(`/v1/jobs?createdAfter=${v}`), 'createdAfter');
      await expectInvalidParameter(await t.get(`/v1/jobs?createdBefore=${v}`), 'createdBefore');
    },
  );

  it("filters by ids, newest first, never returning another tenant's job", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const [a, , c] = await t.submitMany(3);
    const theirs = await other.submit();
    const { page } = await t.list(`?ids=${a!.id},${theirs.id},${c!.id.toUpperCase()}`);
    expect(idsOf(page)).toEqual([c!.id, a!.id]);
  });

  it('accepts 100 ids and rejects 101 with 400 naming ids', async () => {
    const t = await newTenant();
    const [job] = await t.submitMany(1);
    const hundred = [job!.id, ...Array.from({ length: 99 }, () => uuidv7())];
    expect(idsOf((await t.list(`?ids=${hundred.join(',')}`)).page)).toEqual([job!.id]);
    await expectInvalidParameter(await t.get(`/v1/jobs?ids=${[...hundred, uuidv7()].join(',')}`), 'ids');
  });

  it('rejects ids containing a value that is not a UUID with 400 naming ids', async () => {
    const t = await newTenant();
    await expectInvalidParameter(await t.get(`/v1/jobs?ids=${uuidv7()},42`), 'ids');
    await expectInvalidParameter(await t.get('/v1/jobs?ids='), 'ids');
  });

  it('answers only the fields named in fields= for each job, id always included', async () => {
    const t = await newTenant();
    const jobs = await t.submitMany(2);
    const { page } = await t.list('?fields=status,runAt');
    expect(page.data).toEqual(
      newestFirst(jobs).map((id) => ({ id, status: 'queued', runAt: expect.any(String) })),
    );
    const onlyId = await t.list('?fields=id');
    expect(onlyId.page.data).toEqual(newestFirst(jobs).map((id) => ({ id })));
  });

  it.each(['colour', 'status,tenantId', ''])('rejects fields=%j with 400 naming fields', async (f) => {
    const t = await newTenant();
    await expectInvalidParameter(await t.get(`/v1/jobs?fields=${f}`), 'fields');
  });

  it('answers 20 jobs by default and honours limit 1 and 100', async () => {
    const t = await newTenant();
    const jobs = await t.submitMany(21);
    const byDefault = await t.list();
    expect(idsOf(byDefault.page)).toEqual(newestFirst(jobs).slice(0, 20));
    expect(byDefault.page.nextCursor).not.toBeNull();
    expect(idsOf((await t.list('?limit=1')).page)).toEqual([jobs[20]!.id]);
    const all = await t.list('?limit=100');
    expect(all.page.data).toHaveLength(21);
    expect(all.page.nextCursor).toBeNull();
  });

  it.each(['0', '101', '-1', 'abc', '1.5', ''])('rejects limit=%j with 400 naming limit', async (limit) => {
    const t = await newTenant();
    await expectInvalidParameter(await t.get(`/v1/jobs?limit=${limit}`), 'limit');
  });

  it('walks every job exactly once by following Link headers, even when jobs are added between pages', async () => {
    const t = await newTenant();
    const original = await t.submitMany(10);
    const seen: string[] = [];
    const added: JobView[] = [];
    let path: string | null = '/v1/jobs?limit=3';
    let pages = 0;
    while (path) {
      const res = await t.get(path);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      seen.push(...idsOf(page).map(String));
      const link = res.headers.get('link');
      // Link is present exactly when there is a next page, and names the same cursor.
      if (page.nextCursor) {
        expect(link).toMatch(/^<\/v1\/jobs\?[^>]+>; rel="next"$/);
        path = /^<([^>]+)>/.exec(link!)![1]!;
        expect(new URL(path, 'http://x').searchParams.get('cursor')).toBe(page.nextCursor);
      } else {
        expect(link).toBeNull();
        path = null;
      }
      added.push(await t.submit(), await t.submit());
      pages++;
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(newestFirst(original));
    // The jobs added meanwhile are all newer: a fresh walk starts with them.
    const fresh = await t.list('?limit=100');
    expect(idsOf(fresh.page).slice(0, added.length)).toEqual(newestFirst(added));
  });

  it('ends with nextCursor null and no Link when the last page is exactly full', async () => {
    const t = await newTenant();
    const jobs = await t.submitMany(6);
    const first = await t.list('?limit=3');
    expect(first.page.nextCursor).toEqual(expect.any(String));
    expect(first.res.headers.get('link')).not.toBeNull();
    const second = await t.list(`?limit=3&cursor=${first.page.nextCursor}`);
    expect(idsOf(second.page)).toEqual(newestFirst(jobs).slice(3));
    expect(second.page.nextCursor).toBeNull();
    expect(second.res.headers.get('link')).toBeNull();
  });

  it('keeps the filters and fields in the Link to the next page', async () => {
    const t = await newTenant();
    const jobs = await t.submitMany(3);
    const first = await t.list('?status=queued&fields=status&limit=2');
    const link = first.res.headers.get('link')!;
    const next = new URL(/^<([^>]+)>/.exec(link)![1]!, 'http://x');
    expect(next.searchParams.get('status')).toBe('queued');
    expect(next.searchParams.get('fields')).toBe('status');
    expect(next.searchParams.get('limit')).toBe('2');
    const second = await t.list(`${next.search}`);
    expect(second.page.data).toEqual([{ id: jobs[0]!.id, status: 'queued' }]);
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['base64 of a non-id', Buffer.from('v1:hello').toString('base64url')],
    ['another version', Buffer.from(`v2:${uuidv7()}`).toString('base64url')],
    ['far too long', 'A'.repeat(300)],
  ])('rejects a malformed cursor (%s) with 400 invalid_parameter naming cursor', async (_, cursor) => {
    const t = await newTenant();
    await expectInvalidParameter(await t.get(`/v1/jobs?cursor=${encodeURIComponent(cursor)}`), 'cursor');
  });

  it.each(['colour=blue', 'offset=10', 'page=2', 'Status=queued'])(
    'rejects the unknown query parameter %s with 400 invalid_parameter',
    async (q) => {
      const t = await newTenant();
      await expectInvalidParameter(await t.get(`/v1/jobs?${q}`));
    },
  );
});
