import { listJobs } from '@conveyor/db';
import type { JobView, Problem } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../test-support';
import { MAX_JSON_DEPTH } from './json-body';

/** Reading JSON bodies: media type, syntax, and values that parse but could not be stored. */

const ADMIN_TOKEN = 'admin-token-for-json-tests';
const api = useTestApp({ adminToken: ADMIN_TOKEN });

const post = (body: string | Uint8Array, contentType?: string, path = '/v1/jobs', key?: string) =>
  api.tenant.call('POST', path, {
    raw: body,
    key,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
  });

const jobCount = async () =>
  (await listJobs(api.db, { tenantId: api.tenant.tenantId, limit: 100 })).rows.length;

/** `{"type":"noop","payload":{"echo":[[…]]}}` nested `depth` containers deep in all. */
const nestedJob = (depth: number) =>
  `{"type":"noop","payload":{"echo":${'['.repeat(depth - 2)}${']'.repeat(depth - 2)}}}`;

describe('JSON bodies', () => {
  it.each([
    ['a truncated object', '{"type": "noop"'],
    ['an empty body', ''],
    ['plain text', 'type=noop'],
    ['a trailing comma', '{"type": "noop",}'],
  ])('answers 400 invalid_json for %s', async (_, body) => {
    const res = await post(body, 'application/json');
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).code).toBe('invalid_json');
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['a look-alike type', 'application/jsonx'],
    ['no Content-Type at all', undefined],
  ])('answers 415 unsupported_media_type for %s even when the body is JSON', async (_, type) => {
    const res = await post(new TextEncoder().encode('{"type":"noop"}'), type);
    expect(res.status).toBe(415);
    expect(((await res.json()) as Problem).code).toBe('unsupported_media_type');
  });

  it.each(['application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.conveyor+json'])(
    'accepts the JSON media type %s',
    async (type) => {
      expect((await post('{"type":"noop"}', type)).status).toBe(202);
    },
  );

  it('round-trips text outside the BMP (surrogate pairs) unchanged', async () => {
    const echo = { text: 'snow ☃, face 😀, 𝄞', 'key 😀': true };
    const res = await post(JSON.stringify({ type: 'noop', payload: { echo } }), 'application/json');
    expect(res.status).toBe(202);
    const job = (await res.json()) as JobView;
    const again = await api.tenant.call('GET', `/v1/jobs/${job.id}`);
    expect(((await again.json()) as JobView).payload).toEqual({ echo });
  });

  it.each([
    ['a string holding U+0000', '{"type":"noop","payload":{"echo":"a\\u0000b"}}', 'payload.echo'],
    ['a key holding U+0000', '{"type":"noop","payload":{"echo":{"a\\u0000":1}}}', 'payload.echo'],
    ['a lone high surrogate', '{"type":"noop","payload":{"echo":"\\ud800"}}', 'payload.echo'],
    ['a lone low surrogate', '{"type":"noop","payload":{"echo":["ok","\\udc00x"]}}', 'payload.echo.1'],
  ])('answers 422 validation_failed, not 500, for %s, and stores nothing', async (_, body, path) => {
    const before = await jobCount();
    const res = await post(body, 'application/json');
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors?.map((e) => e.path)).toEqual([path]);
    expect(await jobCount()).toBe(before);
  });

  it('rejects U+0000 under an Idempotency-Key with 422 too, before the key is remembered', async () => {
    const res = await api.tenant.call('POST', '/v1/jobs', {
      body: '{"type":"noop","payload":{"echo":"\\u0000"}}',
      headers: { 'idempotency-key': 'nul' },
    });
    expect(res.status).toBe(422);
    const ok = await api.tenant.call('POST', '/v1/jobs', {
      body: '{"type":"noop"}',
      headers: { 'idempotency-key': 'nul' },
    });
    expect(ok.status).toBe(202);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
  });

  it(`accepts nesting of exactly ${MAX_JSON_DEPTH} levels and rejects one more with 422`, async () => {
    expect((await post(nestedJob(MAX_JSON_DEPTH), 'application/json')).status).toBe(202);
    const res = await post(nestedJob(MAX_JSON_DEPTH + 1), 'application/json');
    expect(res.status).toBe(422);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors?.[0]?.path).toMatch(/^payload\.echo(\.0)+$/);
  });

  it('answers 422, not 500, for a body nested thousands of levels deep, with or without an Idempotency-Key', async () => {
    const before = await jobCount();
    const deep = nestedJob(50_000);
    expect((await post(deep, 'application/json')).status).toBe(422);
    const keyed = await api.tenant.call('POST', '/v1/jobs', {
      body: deep,
      headers: { 'idempotency-key': 'deep' },
    });
    expect(keyed.status).toBe(422);
    expect(await jobCount()).toBe(before);
  });

  it('rejects a tenant name holding U+0000 with 422 on the admin API', async () => {
    const res = await post('{"name":"ac\\u0000me"}', 'application/json', '/v1/admin/tenants', ADMIN_TOKEN);
    expect(res.status).toBe(422);
    expect(((await res.json()) as Problem).errors?.map((e) => e.path)).toEqual(['name']);
  });
});
