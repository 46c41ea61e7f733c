import type { JobView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { readSse } from '../helpers/sse';

/**
 * Live status across API instances: a job submitted through one instance is long-polled and streamed
 * through another, woken by the Redis fan-out of the worker's transitions.
 */
describe('live status through any API instance', () => {
  let h: Harness;
  let other: ReturnType<Harness['newApp']>;

  beforeAll(async () => {
    h = await createHarness();
    other = h.newApp();
    await h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  const viaOther = (path: string, headers: Record<string, string> = {}) =>
    Promise.resolve(other.request(path, { headers: { authorization: `Bearer ${h.key}`, ...headers } }));

  it('?wait= answers as soon as the job is terminal, from another instance', async () => {
    const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 700 } });
    const started = Date.now();
    const res = await viaOther(`/v1/jobs/${job.id}?wait=20`);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobView).status).toBe('succeeded');
    expect(elapsed).toBeLessThan(10_000);
  });

  it('?wait= gives up after the time asked for and answers the current state', async () => {
    const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 5_000 } });
    const started = Date.now();
    const res = await viaOther(`/v1/jobs/${job.id}?wait=1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(['queued', 'running']).toContain(((await res.json()) as JobView).status);
    expect((await viaOther(`/v1/jobs/${job.id}?wait=31`)).status).toBe(400);
    expect((await viaOther(`/v1/jobs/${job.id}?wait=soon`)).status).toBe(400);
    await h.request('POST', `/v1/jobs/${job.id}/cancel`);
  });

  it('streams a job’s events live over SSE and ends after the terminal one; Last-Event-ID resumes', async () => {
    const { job } = await h.submit({ type: 'noop', payload: { fail: 'once' } });
    const res = await viaOther(`/v1/jobs/${job.id}/events`, { accept: 'text/event-stream' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const { events, ended } = await readSse(res);
    expect(ended).toBe(true);
    expect(events.map((e) => e.event)).toEqual(['queued', 'running', 'retrying', 'running', 'succeeded']);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(JSON.parse(events[2]!.data)).toMatchObject({
      type: 'retrying',
      data: { error: { code: 'noop_failed' } },
    });

    const resumed = await viaOther(`/v1/jobs/${job.id}/events`, {
      accept: 'text/event-stream',
      'last-event-id': events[1]!.id!,
    });
    const rest = await readSse(resumed);
    expect(rest.events.map((e) => e.event)).toEqual(['retrying', 'running', 'succeeded']);
    expect(rest.ended).toBe(true);
  });

  it('streams the tenant’s job changes filtered by type and status', async () => {
    const res = await viaOther('/v1/events?type=noop&status=succeeded', { accept: 'text/event-stream' });
    expect(res.status).toBe(200);
    const reading = readSse(res, (events) => events.length >= 3);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await h.submit({ type: 'noop', payload: { echo: i } })).job.id);
    const { events } = await reading;
    expect(events.every((e) => e.event === 'job')).toBe(true);
    const seen = events.map((e) => JSON.parse(e.data) as { jobId: string; status: string });
    expect(seen.every((e) => e.status === 'succeeded')).toBe(true);
    expect(seen.map((e) => e.jobId).sort()).toEqual(ids.sort());
    expect((await viaOther('/v1/events?status=done')).status).toBe(400);
  });

  it('never shows another tenant’s changes on the tenant stream', async () => {
    const stranger = await h.newTenant();
    const res = await Promise.resolve(
      other.request('/v1/events', {
        headers: { authorization: `Bearer ${stranger.key}`, accept: 'text/event-stream' },
      }),
    );
    const reading = readSse(res, () => false, 2_500);
    const { job } = await h.submit({ type: 'noop', payload: {} });
    await h.waitForStatus(job.id, ['succeeded']);
    const { events } = await reading;
    expect(events).toEqual([]);
  });
});
