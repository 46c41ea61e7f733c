import { type JobView, type Problem, uuidv7 } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { type CallInit, problemWithoutRequestId, useTestApp } from '../test-support';

/** GET /v1/jobs/{id} (ETag, fields, tenant-blind 404s) and GET /v1/jobs/{id}/events. */

const api = useTestApp();
const call = (method: string, path: string, init?: CallInit) => api.tenant.call(method, path, init);
const submit = (body: unknown) => api.tenant.submit(body);

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('GET /v1/jobs/{id}', () => {
  it('answers the job with an ETag; If-None-Match with that tag answers 304 with no body', async () => {
    const job = await submit({ type: 'noop', payload: { echo: 'etag' } });
    const res = await call('GET', `/v1/jobs/${job.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(job);
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);

    const again = await call('GET', `/v1/jobs/${job.id}`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('x-request-id')).toBeTruthy();

    const weak = await call('GET', `/v1/jobs/${job.id}`, {
      headers: { 'if-none-match': `"nope", W/${etag}` },
    });
    expect(weak.status).toBe(304);
  });

  it('answers 200 with a new ETag once the job has changed', async () => {
    const job = await submit({ type: 'noop' });
    const first = await call('GET', `/v1/jobs/${job.id}`);
    const etag = first.headers.get('etag')!;
    expect((await call('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    const res = await call('GET', `/v1/jobs/${job.id}`, { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(etag);
    expect(((await res.json()) as JobView).status).toBe('canceled');
  });

  it('answers only the fields named in fields= (plus id)', async () => {
    const job = await submit({ type: 'noop' });
    const res = await call('GET', `/v1/jobs/${job.id}?fields=status,attempts`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: job.id, status: 'queued', attempts: 0 });
  });

  it.each(['colour', 'status,colour', '', 'status,'])(
    'answers 400 invalid_parameter for fields=%j',
    async (f) => {
      const job = await submit({ type: 'noop' });
      const res = await call('GET', `/v1/jobs/${job.id}?fields=${f}`);
      expect(res.status).toBe(400);
      const problem = (await res.json()) as Problem;
      expect(problem.code).toBe('invalid_parameter');
      expect(problem.errors?.[0]?.path).toBe('fields');
    },
  );

  it('keeps the tenant id out of the job answer', async () => {
    const job = await submit({ type: 'noop' });
    const text = await (await call('GET', `/v1/jobs/${job.id}`)).text();
    expect(text).not.toContain(api.tenant.tenantId);
  });

  it('finds a job by its id written in upper case', async () => {
    const job = await submit({ type: 'noop' });
    const res = await call('GET', `/v1/jobs/${job.id.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobView).id).toBe(job.id);
  });

  it("answers another tenant's job, a random id and a malformed id with the same 404", async () => {
    const other = await api.newTenant();
    const theirs = await other.submit({ type: 'noop' });
    const ids = [theirs.id, uuidv7(), 'not-a-uuid'];
    const routes: Array<(id: string) => [string, string]> = [
      (id) => ['GET', `/v1/jobs/${id}`],
      (id) => ['GET', `/v1/jobs/${id}/events`],
      (id) => ['POST', `/v1/jobs/${id}/cancel`],
      (id) => ['POST', `/v1/jobs/${id}/retry`],
    ];
    for (const route of routes) {
      const bodies: unknown[] = [];
      for (const id of ids) {
        const [method, path] = route(id);
        const res = await call(method, path);
        expect(res.status, `${method} ${path}`).toBe(404);
        bodies.push(await problemWithoutRequestId(res));
      }
      expect(bodies[0]).toMatchObject({ status: 404, code: 'not_found' });
      expect(bodies[1]).toEqual(bodies[0]);
      expect(bodies[2]).toEqual(bodies[0]);
    }
    // The other tenant's job is untouched by our cancel and retry attempts.
    const mine = await call('GET', `/v1/jobs/${theirs.id}`, { key: other.key });
    expect(((await mine.json()) as JobView).status).toBe('queued');
  });
});

describe('GET /v1/jobs/{id}/events', () => {
  it('starts the timeline with the queued event carrying runAt and maxAttempts', async () => {
    const job = await submit({ type: 'noop', options: { maxAttempts: 4 } });
    const res = await call('GET', `/v1/jobs/${job.id}/events`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as {
      data: { at: string; type: string; data: Record<string, unknown> }[];
    };
    expect(data).toHaveLength(1);
    expect(data[0]!.type).toBe('queued');
    expect(data[0]!.at).toMatch(ISO_UTC);
    expect(data[0]!.data.maxAttempts).toBe(4);
    expect(new Date(data[0]!.data.runAt as string).toISOString()).toBe(job.runAt);
  });

  it('lists later events after the queued one, oldest first', async () => {
    const job = await submit({ type: 'noop' });
    await call('POST', `/v1/jobs/${job.id}/cancel`);
    const res = await call('GET', `/v1/jobs/${job.id}/events`);
    const { data } = (await res.json()) as { data: { at: string; type: string }[] };
    expect(data.map((e) => e.type)).toEqual(['queued', 'canceled']);
    expect(new Date(data[1]!.at).getTime()).toBeGreaterThanOrEqual(new Date(data[0]!.at).getTime());
  });

  it("answers 404 for another tenant's job", async () => {
    const other = await api.newTenant();
    const theirs = await other.submit({ type: 'noop' });
    const res = await call('GET', `/v1/jobs/${theirs.id}/events`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as Problem).code).toBe('not_found');
  });
});
