import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { uuidv7 } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { type ArtifactInit, problemWithoutRequestId, type TestTenant, useTestApp } from '../test-support';

/**
 * GET /v1/jobs/{id}/artifacts and GET /v1/artifacts/{id}. There is no worker here: artifacts are made the
 * way the worker makes them (a blob under artifactKey, then upsertArtifact).
 */

const api = useTestApp();
/** 26 distinct bytes, so a wrong offset shows. */
const CONTENT = Buffer.from('abcdefghijklmnopqrstuvwxyz');

/** A job of `t` (submitted through the API) with one CSV artifact of CONTENT unless `init` says otherwise. */
const artifactOf = (t: TestTenant, init: Partial<ArtifactInit> = {}) =>
  api.newArtifact(t, { content: CONTENT, name: 'report.csv', contentType: 'text/csv', ...init });

const download = (t: TestTenant, id: string, headers: Record<string, string> = {}) =>
  t.call('GET', `/v1/artifacts/${id}`, { headers });

/** A fresh artifact of CONTENT, downloaded with `range`. */
async function downloadRange(range: string) {
  const t = await api.newTenant();
  const { row } = await artifactOf(t);
  return download(t, row.id, { range });
}

const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

interface Listed {
  id: string;
  name: string;
  contentType: string;
  bytes: number;
  createdAt: string;
  url: string;
}

describe('GET /v1/jobs/{id}/artifacts', () => {
  it("lists a job's artifacts with id, name, contentType, bytes, createdAt and a url that downloads it", async () => {
    const t = await api.newTenant();
    const first = await artifactOf(t, { name: 'a.csv' });
    const second = await artifactOf(t, {
      jobId: first.jobId,
      name: 'b.png',
      contentType: 'image/png',
      content: Buffer.from('png'),
    });
    // Another job's artifact is not listed.
    await artifactOf(t, { name: 'other.csv' });

    const res = await t.call('GET', `/v1/jobs/${first.jobId}/artifacts`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: Listed[] };
    expect(data.map((a) => a.id)).toEqual([first.row.id, second.row.id]);
    expect(data[1]).toMatchObject({
      id: second.row.id,
      name: 'b.png',
      contentType: 'image/png',
      bytes: 3,
      createdAt: second.row.createdAt.toISOString(),
      url: `/v1/artifacts/${second.row.id}`,
    });
    const fetched = await t.call('GET', data[0]!.url);
    expect(fetched.status).toBe(200);
    expect((await bytesOf(fetched)).equals(CONTENT)).toBe(true);
  });

  it('answers an empty list for a job without artifacts', async () => {
    const t = await api.newTenant();
    const job = await t.submit();
    const res = await t.call('GET', `/v1/jobs/${job.id}/artifacts`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: [] });
  });

  it("answers another tenant's job exactly like a random or malformed job id: 404", async () => {
    const [t, other] = [await api.newTenant(), await api.newTenant()];
    const { jobId } = await artifactOf(other);
    const bodies = [];
    for (const id of [jobId, uuidv7(), 'not-a-uuid']) {
      const res = await t.call('GET', `/v1/jobs/${id}/artifacts`);
      expect(res.status, id).toBe(404);
      bodies.push(await problemWithoutRequestId(res));
    }
    expect(bodies[0]).toMatchObject({ status: 404, code: 'not_found' });
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });

  it('leaves expired artifacts out of the list', async () => {
    const t = await api.newTenant();
    const live = await artifactOf(t, { name: 'live.csv' });
    await artifactOf(t, { jobId: live.jobId, name: 'old.csv', expiresAt: new Date(Date.now() - 1_000) });
    const { data } = (await (await t.call('GET', `/v1/jobs/${live.jobId}/artifacts`)).json()) as {
      data: Listed[];
    };
    expect(data.map((a) => a.name)).toEqual(['live.csv']);
  });
});

describe('GET /v1/artifacts/{id}', () => {
  it('answers the exact bytes with type, length, ETag, ranges, immutable caching, nosniff and attachment', async () => {
    const t = await api.newTenant();
    const { row } = await artifactOf(t);
    const res = await download(t, row.id);
    expect(res.status).toBe(200);
    expect((await bytesOf(res)).equals(CONTENT)).toBe(true);
    expect(res.headers.get('content-type')).toBe('text/csv');
    expect(res.headers.get('content-length')).toBe(String(CONTENT.length));
    expect(res.headers.get('etag')).toBe(`"${createHash('sha256').update(CONTENT).digest('hex')}"`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('cache-control')).toMatch(/\bimmutable\b/);
    expect(res.headers.get('cache-control')).toMatch(/\bprivate\b/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="report.csv"; filename*=UTF-8''report.csv`,
    );
  });

  it('sends a hostile name only as a safe ASCII filename plus an exact RFC 8187 filename*', async () => {
    const t = await api.newTenant();
    const name = `../../etc/passwd "x";\r\nSet-Cookie: a=b résumé (1)'s *.pdf`;
    const { row } = await artifactOf(t, { name });
    const header = (await download(t, row.id)).headers.get('content-disposition')!;
    const match =
      /^attachment; filename="([A-Za-z0-9._-]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*)$/.exec(
        header,
      );
    expect(match, header).not.toBeNull();
    expect(match![1]).not.toContain('/');
    expect(decodeURIComponent(match![2]!)).toBe(name);
  });

  it('answers If-None-Match with the ETag with 304 and no body', async () => {
    const t = await api.newTenant();
    const { row } = await artifactOf(t);
    const etag = (await download(t, row.id)).headers.get('etag')!;
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await download(t, row.id, { 'if-none-match': tag });
      expect(res.status, tag).toBe(304);
      expect(await res.text()).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
    }
    expect((await download(t, row.id, { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it.each([
    ['bytes=0-9', 0, 9],
    ['bytes=-5', 21, 25],
    ['bytes=10-', 10, 25],
    ['bytes=20-99', 20, 25],
    ['bytes=-100', 0, 25],
    ['bytes=25-25', 25, 25],
  ])('answers Range %s with 206, Content-Range and exactly those bytes', async (range, start, end) => {
    const res = await downloadRange(range);
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${CONTENT.length}`);
    expect(res.headers.get('content-length')).toBe(String(end - start + 1));
    expect((await bytesOf(res)).equals(CONTENT.subarray(start, end + 1))).toBe(true);
  });

  it.each(['bytes=26-', 'bytes=1000-2000', 'bytes=-0'])(
    'answers the unsatisfiable Range %s with 416, Content-Range bytes */size and nothing to cache',
    async (range) => {
      const res = await downloadRange(range);
      expect(res.status).toBe(416);
      expect(res.headers.get('content-range')).toBe(`bytes */${CONTENT.length}`);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('range_not_satisfiable');
      expect(res.headers.get('cache-control')).not.toMatch(/max-age|immutable/);
    },
  );

  it('honours If-Range with the current ETag and answers a stale one with the full 200', async () => {
    const t = await api.newTenant();
    const { row } = await artifactOf(t);
    const etag = (await download(t, row.id)).headers.get('etag')!;
    const current = await download(t, row.id, { range: 'bytes=0-9', 'if-range': etag });
    expect(current.status).toBe(206);
    expect((await bytesOf(current)).equals(CONTENT.subarray(0, 10))).toBe(true);
    for (const stale of ['"0000"', `W/${etag}`, 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      const res = await download(t, row.id, { range: 'bytes=0-9', 'if-range': stale });
      expect(res.status, stale).toBe(200);
      expect(res.headers.get('content-range')).toBeNull();
      expect((await bytesOf(res)).equals(CONTENT)).toBe(true);
    }
  });

  it.each(['bytes=0-1,5-6', 'bytes=0-1, 3-', 'items=0-9', 'bytes=x-y'])(
    'answers the whole artifact with 200 for a Range it does not serve (%s)',
    async (range) => {
      const res = await downloadRange(range);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-range')).toBeNull();
      expect((await bytesOf(res)).equals(CONTENT)).toBe(true);
    },
  );

  it('answers an empty artifact with 200 and no content, a suffix range included', async () => {
    const t = await api.newTenant();
    const { row } = await artifactOf(t, { content: Buffer.alloc(0) });
    for (const headers of [{}, { range: 'bytes=-5' }] as Record<string, string>[]) {
      const res = await download(t, row.id, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe('0');
      expect((await bytesOf(res)).length).toBe(0);
    }
    const past = await download(t, row.id, { range: 'bytes=0-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */0');
  });

  it('answers HEAD with the headers of the download, no body, and without holding the file open', async () => {
    const t = await api.newTenant();
    // Large enough that a stream opened for HEAD would stop at its buffer and keep its descriptor.
    const { row } = await artifactOf(t, { content: Buffer.alloc(2 * 1024 * 1024, 1) });
    const head = async () => {
      const res = await t.call('HEAD', `/v1/artifacts/${row.id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(2 * 1024 * 1024));
      expect(res.headers.get('etag')).toBe(`"${row.sha256}"`);
      expect(await res.text()).toBe('');
    };
    await head();
    if (!existsSync('/proc/self/fd')) return;
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    for (let i = 0; i < 20; i++) await head();
    expect(openFiles() - before).toBeLessThan(5);
  });

  it("answers another tenant's artifact, a random id and a malformed id with identical 404s", async () => {
    const [t, other] = [await api.newTenant(), await api.newTenant()];
    const theirs = await artifactOf(other);
    const bodies = [];
    for (const id of [theirs.row.id, uuidv7(), 'not-a-uuid', theirs.row.id.toUpperCase()]) {
      const res = await download(t, id);
      expect(res.status, id).toBe(404);
      bodies.push(await problemWithoutRequestId(res));
    }
    expect(bodies[0]).toMatchObject({ status: 404, code: 'not_found' });
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    // Its owner still gets it.
    expect((await download(other, theirs.row.id)).status).toBe(200);
  });

  it('finds an artifact by its id written in upper case', async () => {
    const t = await api.newTenant();
    const { row } = await artifactOf(t);
    expect((await download(t, row.id.toUpperCase())).status).toBe(200);
  });

  it('answers 404, not 500, when the blob is gone from storage', async () => {
    const t = await api.newTenant();
    const { row } = await artifactOf(t);
    await api.store.delete(row.storageKey);
    const res = await download(t, row.id);
    expect(res.status).toBe(404);
    expect((await problemWithoutRequestId(res)).code).toBe('not_found');
  });

  it('answers 404 for an expired artifact, though its blob is still stored', async () => {
    const t = await api.newTenant();
    const { row } = await artifactOf(t, { expiresAt: new Date(Date.now() - 1_000) });
    expect(await api.store.stat(row.storageKey)).not.toBeNull();
    const res = await download(t, row.id);
    expect(res.status).toBe(404);
    expect((await problemWithoutRequestId(res)).code).toBe('not_found');
  });

  it.each([
    '/v1/artifacts/..%2F..%2Fetc%2Fpasswd',
    '/v1/artifacts/%2e%2e',
    '/v1/artifacts/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/v1/artifacts/..%5C..%5Cwindows',
    '/v1/artifacts/%00',
  ])('answers the traversal attempt %s with a 404 problem', async (path) => {
    const t = await api.newTenant();
    await artifactOf(t);
    const res = await t.call('GET', path);
    expect(res.status).toBe(404);
    expect((await problemWithoutRequestId(res)).code).toBe('not_found');
  });

  it('requires the jobs:read scope (403) and a key (401) for lists and downloads', async () => {
    const t = await api.newTenant();
    const { jobId, row } = await artifactOf(t);
    const { key: writeOnly } = await api.newKey(t.tenantId, ['jobs:write']);
    for (const path of [`/v1/jobs/${jobId}/artifacts`, `/v1/artifacts/${row.id}`]) {
      const forbidden = await t.call('GET', path, { key: writeOnly });
      expect(forbidden.status, path).toBe(403);
      expect((await problemWithoutRequestId(forbidden)).code).toBe('forbidden');
      const anonymous = await t.call('GET', path, { key: null });
      expect(anonymous.status, path).toBe(401);
    }
  });
});
