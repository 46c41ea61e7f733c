import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiMetrics } from '@conveyor/api';
import { createWorkerMetrics } from '@conveyor/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/env';
import { createHarness, type Harness } from '../helpers/harness';
import { startPrivateRedis } from '../helpers/redis-server';
import { waitFor } from '../helpers/wait';

/** The value of the first sample of `name` whose labels include `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const head = line.slice(name.length).split(' ')[0] ?? '';
    if (want.every((l) => head.includes(l))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('worker metrics, heartbeats and the fleet view', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h?.close());

  it('counts attempts, durations and failures by code on the worker metrics server', async () => {
    const runtime = await h.startWorker({ metricsServer: { port: 0, host: '127.0.0.1' } });
    expect(runtime.metricsPort).toBeGreaterThan(0);
    const ok = await h.submit({ type: 'noop', payload: {} });
    const bad = await h.submit({ type: 'noop', payload: { fail: 'unrecoverable' } });
    await h.waitForStatus(ok.job.id, ['succeeded']);
    const failed = await h.waitForStatus(bad.job.id, ['failed']);

    const res = await fetch(`http://127.0.0.1:${runtime.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, 'conveyor_job_attempts_total', { kind: 'noop' })).toBe(2);
    expect(sample(text, 'conveyor_job_duration_seconds_count', { kind: 'noop', outcome: 'succeeded' })).toBe(
      1,
    );
    expect(sample(text, 'conveyor_job_duration_seconds_count', { kind: 'noop', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'conveyor_job_failures_total', { kind: 'noop', code: failed.error!.code })).toBe(1);
    expect(sample(text, 'conveyor_reconciler_reenqueued_total')).toBe(0);
    expect(text).toContain('conveyor_process_cpu_seconds_total');
    expect((await fetch(`http://127.0.0.1:${runtime.metricsPort}/other`)).status).toBe(404);
    await runtime.close(2_000);
  });

  it('lists two worker runtimes online per queue in GET /v1/queues, with throughput', async () => {
    const a = await h.startWorker({ heartbeatIntervalMs: 200 });
    const b = await h.startWorker({ heartbeatIntervalMs: 200, queues: ['default'] });
    const { job } = await h.submit({ type: 'noop', payload: {} });
    await h.waitForStatus(job.id, ['succeeded']);

    type Entry = {
      name: string;
      counts: Record<string, number>;
      throughput: { completedLastMinute: number };
      workersOnline: number;
      workers: { id: string; pid: number }[];
    };
    const body = await waitFor('both workers online', async () => {
      const res = await h.request('GET', '/v1/queues');
      expect(res.status).toBe(200);
      const json = (await res.json()) as { data: Entry[]; workersOnline: number };
      // Throughput counts are written within a fifth of a second of a job's end (worker outcome-counter.ts).
      const def = json.data.find((q) => q.name === 'default');
      return json.workersOnline === 2 && (def?.throughput.completedLastMinute ?? 0) >= 1 ? json : undefined;
    });
    const byName = new Map(body.data.map((q) => [q.name, q]));
    const def = byName.get('default')!;
    expect(def.workersOnline).toBe(2);
    expect(def.workers.map((w) => w.id).sort()).toEqual([a.workerId, b.workerId].sort());
    expect(def.throughput.completedLastMinute).toBeGreaterThanOrEqual(1);
    expect(Object.keys(def.counts).sort()).toEqual(['active', 'completed', 'delayed', 'failed', 'waiting']);
    expect(byName.get('emails')!.workersOnline).toBe(1);

    // A stopped worker leaves the fleet at once (its heartbeat is removed).
    await b.close(2_000);
    const after = (await (await h.request('GET', '/v1/queues')).json()) as { workersOnline: number };
    expect(after.workersOnline).toBe(1);
    await a.close(2_000);
  });

  it('needs jobs:read for GET /v1/queues', async () => {
    const { key } = await h.newTenant(['jobs:write']);
    expect((await h.request('GET', '/v1/queues', { key })).status).toBe(403);
  });
});

describe('readiness and Redis maxmemory-policy', () => {
  it('stays ready but warns when the policy is not noeviction', async () => {
    const redis = await startPrivateRedis();
    let h: Harness | undefined;
    try {
      const admin = redis.client();
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      h = await createHarness({ redisUrl: redis.url });
      const res = await h.app.request('/health/ready');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { redisMaxmemoryPolicy: string; warnings?: string[] };
      expect(body.redisMaxmemoryPolicy).toBe('allkeys-lru');
      expect(body.warnings?.[0]).toContain('allkeys-lru');
    } finally {
      await h?.close();
      await redis.close();
    }
  });
});

describe('the Grafana dashboard', () => {
  it('references only metric names the API and worker registries define', () => {
    const dashboard = readFileSync(join(REPO_ROOT, 'deploy/grafana/conveyor.json'), 'utf8');
    JSON.parse(dashboard);
    const used = new Set(
      [...dashboard.matchAll(/\bconveyor_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
    );
    expect(used.size).toBeGreaterThan(5);
    const api = createApiMetrics();
    const worker = createWorkerMetrics();
    const defined = (name: string) =>
      api.registry.getSingleMetric(name) !== undefined || worker.registry.getSingleMetric(name) !== undefined;
    expect([...used].filter((name) => !defined(name))).toEqual([]);
  });
});
