/**
 * Processing: submit → `succeeded` in Postgres for noop jobs. Latency (one job at a time on an idle worker)
 * and drain throughput (N jobs submitted first, then one worker process with the default concurrency), each
 * beside a bare BullMQ Worker; then the peers (pg-boss, graphile-worker) submitting and draining as many
 * jobs on the same Postgres; then drain scaling over 1, 2 and 4 worker processes.
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PeerResult } from '../children/peer-common';
import { benchConfig } from '../config';
import {
  activeJobs,
  noopJob,
  type Stack,
  scratchDatabase,
  startWorker,
  statusCounts,
  submitBatches,
  warmUp,
} from '../lib/conveyor';
import { CpuMeter, type PidSource, postgresBackendPids } from '../lib/cpu';
import { type CpuShares, runMetered } from '../lib/metered';
import type { Proc } from '../lib/procs';

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;

/** Submit → succeeded, server-side (createdAt → finishedAt), one job at a time on an idle worker. */
export async function latencyScenario(stack: Stack) {
  const worker = startWorker(stack, 'worker-latency');
  try {
    await warmUp(stack);
    const headers = { ...stack.authHeaders, 'content-type': 'application/json' };
    const latencies: number[] = [];
    for (let i = 0; i < benchConfig.latencyJobs; i++) {
      const res = await fetch(`${stack.apiUrl}/v1/jobs`, {
        method: 'POST',
        headers,
        body: JSON.stringify(noopJob),
      });
      const { id } = (await res.json()) as { id: string };
      for (;;) {
        await sleep(10);
        const job = (await (await fetch(`${stack.apiUrl}/v1/jobs/${id}`, { headers })).json()) as {
          status: string;
          createdAt: string;
          finishedAt: string | null;
        };
        if (job.status === 'succeeded') {
          latencies.push(new Date(job.finishedAt!).getTime() - new Date(job.createdAt).getTime());
          break;
        }
      }
      await sleep(25);
    }
    latencies.sort((a, b) => a - b);
    return {
      jobs: latencies.length,
      p50Ms: quantile(latencies, 0.5),
      p90Ms: quantile(latencies, 0.9),
      p99Ms: quantile(latencies, 0.99),
    };
  } finally {
    await worker.stop();
  }
}

export interface DrainResult {
  workers: number;
  jobs: number;
  seconds: number;
  jobsPerS: number;
  cpu: CpuShares;
  /** The process (or group) with the largest CPU share, and the machine's total share used. */
  busiest: string;
}

/**
 * Submits `jobs` noop jobs with no worker running, then starts `workers` worker processes and times the
 * drain from the first finished job (active count below `jobs`) until no job is active, polling Postgres
 * every 20 ms. Checks that every job ended `succeeded`.
 */
export async function drainScenario(
  stack: Stack,
  workers: number,
  jobs: number,
  shared: Record<string, PidSource>,
): Promise<DrainResult> {
  if ((await activeJobs(stack)) !== 0) throw new Error('jobs are still active before a drain');
  const before = (await statusCounts(stack)).succeeded ?? 0;
  await submitBatches(stack, jobs);
  const procs: Proc[] = [];
  try {
    for (let i = 0; i < workers; i++) procs.push(startWorker(stack, `worker-${workers}x-${i + 1}`));
    let meter: CpuMeter | undefined;
    let started = 0;
    for (;;) {
      const active = await activeJobs(stack);
      if (!meter && active < jobs) {
        started = performance.now();
        meter = new CpuMeter({
          ...Object.fromEntries(procs.map((p) => [p.name, p.pid])),
          ...shared,
        });
      }
      if (active === 0) break;
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = meter!.stop();
    const succeeded = ((await statusCounts(stack)).succeeded ?? 0) - before;
    if (succeeded !== jobs) throw new Error(`drain: ${succeeded} of ${jobs} jobs succeeded`);
    // One process near a full core is a single-threaded bottleneck; the machine near all its cores means
    // the drain was CPU-bound as a whole (by our processes or by anything else running).
    const [busiest] = Object.entries(cpu)
      .filter(([group]) => !['postgres-all', 'machine'].includes(group))
      .sort(([, a], [, b]) => b - a);
    const cores = availableParallelism();
    return {
      workers,
      jobs,
      seconds: Math.round(seconds * 100) / 100,
      jobsPerS: Math.round(jobs / seconds),
      cpu,
      busiest: `${busiest ? `${busiest[0]} ${busiest[1]} cores; ` : ''}machine ${cpu.machine} of ${cores} cores busy`,
    };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

export async function rawWorkerScenario(prefix: string, shared: Record<string, PidSource>) {
  const spec = { redisUrl: benchConfig.redisUrl, prefix, concurrency: benchConfig.workerConcurrency };
  const drain = await runMetered<{ jobs: number; jobsPerS: number; seconds: number }>(
    'raw-worker',
    'src/children/raw-worker.ts',
    { ...spec, mode: 'drain', jobs: benchConfig.drainJobs },
    shared,
  );
  const latency = await runMetered<{ jobs: number; p50Ms: number; p90Ms: number; p99Ms: number }>(
    'raw-worker',
    'src/children/raw-worker.ts',
    { ...spec, mode: 'latency', jobs: benchConfig.latencyJobs },
    shared,
  );
  return { drain: { result: drain.result, cpu: drain.cpu.drain ?? {} }, latency: latency.result };
}

export async function peerScenario(peer: 'pgboss' | 'graphile', shared: Record<string, PidSource>) {
  const database = await scratchDatabase();
  const { result, cpu } = await runMetered<PeerResult>(
    peer,
    `src/children/${peer}.ts`,
    {
      connectionString: database.url,
      jobs: benchConfig.drainJobs,
      submitConcurrency: benchConfig.submitConnections,
      workerConcurrency: benchConfig.workerConcurrency,
    },
    { ...shared, 'postgres-peer': postgresBackendPids([database.name]) },
  );
  return { result, cpu };
}
