import { createDb, type DbHandle, findJob, listJobs } from '@conveyor/db';
import { createLogger, generateApiKey, type JobView, type Problem, uuidv7 } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../app';
import { type CallInit, chunked, send, useTestApp } from '../test-support';

/** The error contract (problem+json, request ids, no leaks), body limits, and the unexpected-failure paths. */

const SMALL_LIMIT = 200;
const api = useTestApp();
let smallApp: App;
let readOnlyKey: string;
const handles: DbHandle[] = [];

beforeAll(async () => {
  smallApp = api.build({ bodyLimitBytes: SMALL_LIMIT });
  ({ key: readOnlyKey } = await api.newKey(api.tenant.tenantId, ['jobs:read']));
});

afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
});

const request = (method: string, path: string, init?: CallInit) => api.tenant.call(method, path, init);

/** Text that would betray internals: stack frames, file paths, SQL, hosts, driver error names. */
const LEAKS = [
  /\n\s+at /,
  /\.ts\b/,
  /node_modules/,
  /\bselect\b/i,
  /\bfrom "/,
  /127\.0\.0\.1/,
  /postgres/i,
  /Error:/,
];

/** Asserts the whole problem+json contract of one error response and returns its body. */
async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const text = await res.text();
  for (const leak of LEAKS) expect(text).not.toMatch(leak);
  const body = JSON.parse(text) as Problem & Record<string, unknown>;
  expect(body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code,
    requestId: expect.any(String),
  });
  expect(new URL(body.type).protocol).toMatch(/^https?:$/);
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.detail.length).toBeGreaterThan(0);
  expect(res.headers.get('x-request-id')).toBe(body.requestId);
  if (body.errors !== undefined) {
    expect(body.errors.length).toBeGreaterThan(0);
    for (const e of body.errors) expect(e).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
  return body;
}

const jobBodyOfSize = (bytes: number) => {
  const shell = JSON.stringify({ type: 'noop', payload: { echo: '' } });
  return JSON.stringify({ type: 'noop', payload: { echo: 'x'.repeat(bytes - shell.length) } });
};

const postStream = (target: App, text: string) =>
  request('POST', '/v1/jobs', {
    app: target,
    raw: chunked(text),
    headers: { 'content-type': 'application/json' },
  });

const jobCount = async () =>
  (await listJobs(api.db, { tenantId: api.tenant.tenantId, limit: 100 })).rows.length;

describe('problem+json for every error', () => {
  it.each<[string, number, string, () => Promise<Response>]>([
    ['broken JSON', 400, 'invalid_json', () => request('POST', '/v1/jobs', { body: '{"type":' })],
    ['a bad query parameter', 400, 'invalid_parameter', () => request('GET', '/v1/jobs?limit=0')],
    ['no API key', 401, 'unauthenticated', () => request('GET', '/v1/jobs', { key: null })],
    [
      'a missing scope',
      403,
      'forbidden',
      () => request('POST', '/v1/jobs', { body: '{"type":"noop"}', key: readOnlyKey }),
    ],
    ['an unknown job', 404, 'not_found', () => request('GET', `/v1/jobs/${uuidv7()}`)],
    ['an unknown route', 404, 'not_found', () => request('GET', '/v1/nothing-here')],
    ['an unknown route outside /v1', 404, 'not_found', () => request('GET', '/nothing', { key: null })],
    ['a wrong method', 404, 'not_found', () => request('DELETE', '/v1/jobs')],
    [
      'a body over the limit',
      413,
      'payload_too_large',
      () => request('POST', '/v1/jobs', { body: jobBodyOfSize(2 * 1024 * 1024) }),
    ],
    [
      'a non-JSON media type',
      415,
      'unsupported_media_type',
      () => request('POST', '/v1/jobs', { body: 'x', headers: { 'content-type': 'text/plain' } }),
    ],
    [
      'an invalid body',
      422,
      'validation_failed',
      () => request('POST', '/v1/jobs', { body: '{"type":"nope"}' }),
    ],
  ])('answers %s with a complete problem (%i %s)', async (_, status, code, send) => {
    await expectProblem(await send(), status, code);
  });

  it('answers 409 invalid_state and 422 idempotency_key_reused as problems too', async () => {
    const job = (await (await request('POST', '/v1/jobs', { body: '{"type":"noop"}' })).json()) as JobView;
    await request('POST', `/v1/jobs/${job.id}/cancel`);
    await expectProblem(await request('POST', `/v1/jobs/${job.id}/cancel`), 409, 'invalid_state');
    const headers = { 'idempotency-key': 'errors-reused' };
    expect((await request('POST', '/v1/jobs', { body: '{"type":"noop"}', headers })).status).toBe(202);
    const reused = await request('POST', '/v1/jobs', {
      body: '{"type":"noop","payload":{"sleepMs":1}}',
      headers,
    });
    await expectProblem(reused, 422, 'idempotency_key_reused');
  });

  it('gives each code its own problem type URI', async () => {
    const a = await expectProblem(await request('GET', '/v1/jobs', { key: null }), 401, 'unauthenticated');
    const b = await expectProblem(await request('GET', `/v1/jobs/${uuidv7()}`), 404, 'not_found');
    expect(a.type).not.toBe(b.type);
  });

  it('answers an unexpected failure with a generic 500 and logs it once, with its stack', async () => {
    const lines: Record<string, unknown>[] = [];
    const capture = createLogger({
      name: 'test',
      level: 'info',
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    // A database that does not exist: every query fails with an error that is not "unreachable".
    const broken = createDb(`postgres://postgres@127.0.0.1:5432/conveyor_missing_${Date.now()}`, { max: 1 });
    handles.push(broken);
    const target = api.build({ db: broken.db, log: capture });
    const res = await request('GET', '/v1/jobs', { key: generateApiKey().key, app: target });
    const body = await expectProblem(res, 500, 'internal');
    expect(body.detail).not.toMatch(/conveyor_missing|database/i);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.requestId).toBe(body.requestId);
    expect((errors[0]!.err as { stack?: string }).stack).toMatch(/\n\s+at /);
  });

  it('answers 503 unavailable with Retry-After when Postgres is unreachable', async () => {
    const down = createDb('postgres://postgres@127.0.0.1:1/conveyor', { max: 1, connectTimeoutSeconds: 1 });
    handles.push(down);
    const target = api.build({ db: down.db });
    const res = await request('GET', '/v1/jobs', { key: generateApiKey().key, app: target });
    await expectProblem(res, 503, 'unavailable');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('X-Request-Id', () => {
  it('echoes a sane incoming id on success and on error, in the header and in the problem body', async () => {
    const id = 'req-123.abc:XYZ_9';
    const ok = await request('GET', '/v1/jobs', { headers: { 'x-request-id': id } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe(id);
    const bad = await request('GET', `/v1/jobs/${uuidv7()}`, { headers: { 'x-request-id': id } });
    expect((await expectProblem(bad, 404, 'not_found')).requestId).toBe(id);
    const longest = 'r'.repeat(128);
    const echoed = await request('GET', '/health/live', { headers: { 'x-request-id': longest } });
    expect(echoed.headers.get('x-request-id')).toBe(longest);
  });

  it('records the request id of the submit with the job', async () => {
    const res = await request('POST', '/v1/jobs', {
      body: '{"type":"noop"}',
      headers: { 'x-request-id': 'sub-77' },
    });
    const job = (await res.json()) as JobView;
    expect((await findJob(api.db, api.tenant.tenantId, job.id))?.requestId).toBe('sub-77');
  });

  it.each([
    ['spaces', 'has some spaces'],
    ['500 characters', 'x'.repeat(500)],
    ['129 characters', 'y'.repeat(129)],
    ['non-ASCII', 'réq-1'],
    ['a slash and quotes', 'a/"b"'],
    ['an empty value', ''],
  ])('replaces an insane incoming id (%s) with one of its own', async (_, given) => {
    const res = await request('GET', `/v1/jobs/${uuidv7()}`, { headers: { 'x-request-id': given } });
    const body = await expectProblem(res, 404, 'not_found');
    expect(body.requestId).not.toBe(given);
    expect(body.requestId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    const ok = await request('GET', '/health/live', { headers: { 'x-request-id': given } });
    expect(ok.headers.get('x-request-id')).not.toBe(given);
  });

  it('makes a fresh id per request when none is sent', async () => {
    const a = (await request('GET', '/health/live')).headers.get('x-request-id');
    const b = (await request('GET', '/health/live')).headers.get('x-request-id');
    expect(a).toBeTruthy();
    expect(b).toBeTruthy();
    expect(a).not.toBe(b);
  });
});

describe('body limit', () => {
  it('accepts a body of exactly the limit and rejects one byte more, with Content-Length', async () => {
    const before = await jobCount();
    const exact = jobBodyOfSize(SMALL_LIMIT);
    expect(Buffer.byteLength(exact)).toBe(SMALL_LIMIT);
    const fits = await request('POST', '/v1/jobs', {
      body: exact,
      headers: { 'content-length': String(SMALL_LIMIT) },
      app: smallApp,
    });
    expect(fits.status).toBe(202);
    const over = jobBodyOfSize(SMALL_LIMIT + 1);
    const res = await request('POST', '/v1/jobs', {
      body: over,
      headers: { 'content-length': String(SMALL_LIMIT + 1) },
      app: smallApp,
    });
    const problem = await expectProblem(res, 413, 'payload_too_large');
    expect(problem.detail).toContain(String(SMALL_LIMIT));
    expect(await jobCount()).toBe(before + 1);
  });

  it('rejects a chunked body over the limit (no Content-Length) with 413, and stores nothing', async () => {
    const before = await jobCount();
    const res = await postStream(smallApp, jobBodyOfSize(SMALL_LIMIT * 5));
    await expectProblem(res, 413, 'payload_too_large');
    expect(await jobCount()).toBe(before);
  });

  it('accepts a chunked body within the limit and reads all of its chunks', async () => {
    const body = JSON.parse(jobBodyOfSize(SMALL_LIMIT)) as { payload: { echo: string } };
    const res = await postStream(smallApp, JSON.stringify(body));
    expect(res.status).toBe(202);
    expect(((await res.json()) as JobView).payload).toEqual(body.payload);
  });

  it('holds the default limit at 1 MiB, chunked or not', async () => {
    const mib = 1024 * 1024;
    expect((await request('POST', '/v1/jobs', { body: jobBodyOfSize(mib) })).status).toBe(202);
    const before = await jobCount();
    const over = jobBodyOfSize(mib + 1);
    await expectProblem(await request('POST', '/v1/jobs', { body: over }), 413, 'payload_too_large');
    await expectProblem(await postStream(api.app, over), 413, 'payload_too_large');
    expect(await jobCount()).toBe(before);
  });

  it('applies the limit to admin routes too', async () => {
    const admin = api.build({ adminToken: 'admin-token-0123456789', bodyLimitBytes: SMALL_LIMIT });
    const res = await send(admin, 'POST', '/v1/admin/tenants', {
      key: 'admin-token-0123456789',
      body: { name: 'n'.repeat(SMALL_LIMIT) },
    });
    await expectProblem(res, 413, 'payload_too_large');
  });
});
