import { createProducer, type Producer } from '@conveyor/queue';
import { describe, expect, it } from 'vitest';
import { createApiMetrics } from '../metrics/registry';
import { useTestApp } from '../test-support';

/** The value of one sample line of Prometheus text, or undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const body = line.slice(name.length).split(' ')[0] ?? '';
    if (want.every((l) => body.includes(l))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('GET /metrics on the API', () => {
  const api = useTestApp();

  it('records request durations under the route pattern, never the raw path', async () => {
    const metrics = createApiMetrics({ processMetrics: false });
    const app = api.build({ metrics });
    const t = api.tenant;
    const job = await t.submit({ type: 'noop', payload: {} });
    for (let i = 0; i < 3; i++) await t.call('GET', `/v1/jobs/${job.id}`, { app });
    await t.call('GET', '/v1/jobs/00000000-0000-7000-8000-000000000000', { app });

    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const ok = { method: 'GET', route: '/v1/jobs/:id', status: '200' };
    expect(sample(text, 'conveyor_http_request_duration_seconds_count', ok)).toBe(3);
    expect(sample(text, 'conveyor_http_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(3);
    expect(sample(text, 'conveyor_http_request_duration_seconds_count', { ...ok, status: '404' })).toBe(1);
    expect(text).not.toContain(job.id);
  });

  it('shows queue depth and the oldest waiting age per queue, read from BullMQ on scrape', async () => {
    // A prefix of its own, so only this test's jobs are counted (no worker runs here: they stay waiting).
    const app = api.build();
    const t = api.tenant;
    for (let i = 0; i < 3; i++) await t.submit({ type: 'noop', payload: {} });
    await t.submit({
      type: 'noop',
      payload: {},
      options: { runAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    await new Promise((r) => setTimeout(r, 50));

    const text = await (await app.request('/metrics')).text();
    const queue = 'default';
    expect(sample(text, 'conveyor_queue_stats_up', {})).toBe(1);
    expect(sample(text, 'conveyor_queue_jobs', { queue, state: 'waiting' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'conveyor_queue_jobs', { queue, state: 'delayed' })).toBe(1);
    expect(sample(text, 'conveyor_queue_jobs', { queue, state: 'active' })).toBe(0);
    expect(sample(text, 'conveyor_queue_oldest_waiting_age_seconds', { queue })).toBeGreaterThan(0);
    expect(sample(text, 'conveyor_workers_online', { queue })).toBe(0);
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    const app = api.build({ metricsToken: 'metrics-token-0123456789' });
    expect((await app.request('/metrics')).status).toBe(401);
    const wrong = await app.request('/metrics', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const right = await app.request('/metrics', {
      headers: { authorization: 'Bearer metrics-token-0123456789' },
    });
    expect(right.status).toBe(200);
  });

  it('answers 503 on GET /v1/queues while Redis is unreachable', async () => {
    let dead: Producer | undefined;
    try {
      dead = createProducer({ redisUrl: 'redis://127.0.0.1:1', prefix: api.prefix });
      const app = api.build({ producer: dead });
      const res = await api.tenant.call('GET', '/v1/queues', { app });
      expect(res.status).toBe(503);
    } finally {
      await dead?.close();
    }
  });
});
