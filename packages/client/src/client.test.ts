import { describe, expect, it } from 'vitest';
import { createClient } from './client';
import { ConveyorError } from './errors';

type Seen = { method: string; url: URL; headers: Headers; body: string | null };

/** A fetch that records each request and answers from `reply`; no network. */
const fakeFetch = (reply: (req: Seen) => Response) => {
  const seen: Seen[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const req: Seen = {
      method: init?.method ?? 'GET',
      url: new URL(String(input)),
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : null,
    };
    seen.push(req);
    return reply(req);
  }) as typeof globalThis.fetch;
  return { fetch, seen };
};
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('createClient', () => {
  it('submits with the key, the idempotency key and the request id', async () => {
    const { fetch, seen } = fakeFetch(() => json({ id: 'j1', type: 'noop', status: 'queued' }, 202));
    const client = createClient({ baseUrl: 'http://api.test/', apiKey: 'cvr_k', fetch });
    const job = await client.submit(
      { type: 'noop', payload: { sleepMs: 5 } },
      { idempotencyKey: 'idem-1', requestId: 'req-1' },
    );
    expect(job.type).toBe('noop');
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url.href).toBe('http://api.test/v1/jobs');
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer cvr_k');
    expect(seen[0]!.headers.get('idempotency-key')).toBe('idem-1');
    expect(seen[0]!.headers.get('x-request-id')).toBe('req-1');
    expect(JSON.parse(seen[0]!.body!)).toEqual({ type: 'noop', payload: { sleepMs: 5 } });
  });

  it('follows nextCursor through every page and sends list filters as comma lists', async () => {
    const { fetch, seen } = fakeFetch((req) =>
      req.url.searchParams.get('cursor') === 'c2'
        ? json({ data: [{ id: 'b' }], nextCursor: null })
        : json({ data: [{ id: 'a' }], nextCursor: 'c2' }),
    );
    const client = createClient({ baseUrl: 'http://api.test', apiKey: 'k', fetch });
    const ids: string[] = [];
    for await (const job of client.listAll({
      status: ['succeeded', 'failed'],
      fields: ['status'],
      limit: 1,
    })) {
      ids.push(job.id);
    }
    expect(ids).toEqual(['a', 'b']);
    expect(seen.map((r) => r.url.searchParams.get('cursor'))).toEqual([null, 'c2']);
    expect(seen[0]!.url.searchParams.get('status')).toBe('succeeded,failed');
    expect(seen[0]!.url.searchParams.get('fields')).toBe('status');
  });

  it('throws a ConveyorError for a problem answer', async () => {
    const { fetch } = fakeFetch(() =>
      json({ status: 409, code: 'invalid_state', detail: 'The job already finished.', requestId: 'r9' }, 409),
    );
    const client = createClient({ baseUrl: 'http://api.test', apiKey: 'k', fetch });
    const err = await client.cancel('j1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConveyorError);
    expect(err).toMatchObject({ status: 409, code: 'invalid_state', requestId: 'r9' });
  });

  it('streams a job timeline from SSE with the ids to resume from', async () => {
    const sse =
      'id: 1\nevent: queued\ndata: {"at":"t1","type":"queued","data":{}}\n\n' +
      'id: 2\nevent: succeeded\ndata: {"at":"t2","type":"succeeded","data":{"x":1}}\n\n';
    const { fetch, seen } = fakeFetch(
      () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }),
    );
    const client = createClient({ baseUrl: 'http://api.test', apiKey: 'k', fetch });
    const events = [];
    for await (const e of client.streamEvents('j1', { lastEventId: '0' })) events.push(e);
    expect(events).toEqual([
      { id: '1', at: 't1', type: 'queued', data: {} },
      { id: '2', at: 't2', type: 'succeeded', data: { x: 1 } },
    ]);
    expect(seen[0]!.headers.get('accept')).toBe('text/event-stream');
    expect(seen[0]!.headers.get('last-event-id')).toBe('0');
  });
});

describe('client.schedules', () => {
  it('creates, lists, replaces and deletes schedules on /v1/schedules', async () => {
    const { fetch, seen } = fakeFetch((req) =>
      req.method === 'DELETE'
        ? new Response(null, { status: 204 })
        : json(req.method === 'GET' ? { data: [], nextCursor: null } : { id: 's1' }, 201),
    );
    const client = createClient({ baseUrl: 'http://api.test', apiKey: 'cvr_k', fetch });
    const body = { cron: '*/5 * * * *', template: { type: 'noop' as const, payload: { sleepMs: 1 } } };
    expect((await client.schedules.create(body)).id).toBe('s1');
    expect((await client.schedules.list({ limit: 5 })).data).toEqual([]);
    await client.schedules.replace('s 1', { ...body, paused: true });
    await client.schedules.delete('s1');
    expect(seen.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
      'POST /v1/schedules',
      'GET /v1/schedules?limit=5',
      'PUT /v1/schedules/s%201',
      'DELETE /v1/schedules/s1',
    ]);
    expect(JSON.parse(seen[2]!.body!)).toEqual({ ...body, paused: true });
  });

  it('reads, sets and rotates webhook settings and reads a delivery log', async () => {
    const { fetch, seen } = fakeFetch((req) =>
      json(
        req.url.pathname.endsWith('/deliveries')
          ? { data: [{ id: 'd1' }] }
          : { url: null, secret: 'whsec_x' },
      ),
    );
    const client = createClient({ baseUrl: 'http://api.test', apiKey: 'cvr_k', fetch });
    expect((await client.webhooks.settings()).secret).toBe('whsec_x');
    await client.webhooks.setUrl('https://example.com/hook');
    await client.webhooks.rotateSecret();
    expect(await client.webhooks.deliveries('j 1')).toEqual([{ id: 'd1' }]);
    expect(seen.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      'GET /v1/webhook-settings',
      'PUT /v1/webhook-settings',
      'POST /v1/webhook-settings/rotate-secret',
      'GET /v1/jobs/j%201/deliveries',
    ]);
    expect(JSON.parse(seen[1]!.body!)).toEqual({ url: 'https://example.com/hook' });
  });
});
