import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobRunnerMetrics } from './job-runner';
import type { ReconcilerMetrics } from './reconciler';

/** Run times from 10 ms (a no-op) to 10 min (a large report or a slow fetch), in s. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface WorkerMetricsOptions {
  /** Add Node's process metrics (CPU, memory, event loop lag, GC), prefixed `conveyor_`; default true. */
  processMetrics?: boolean;
  /** Jobs running in this process, read on scrape. */
  activeJobs?: () => number;
}

/**
 * The worker's Prometheus registry (one per runtime, so two runtimes in one test process do not share
 * counters) and the hooks the job runner and the reconciler call.
 */
export function createWorkerMetrics(options: WorkerMetricsOptions = {}) {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'conveyor_' });
  const registers = [registry];

  const duration = new Histogram({
    name: 'conveyor_job_duration_seconds',
    help: 'Run time of one attempt, from handler start to its outcome, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const attempts = new Counter({
    name: 'conveyor_job_attempts_total',
    help: 'Attempts started, by kind',
    labelNames: ['kind'] as const,
    registers,
  });
  const failures = new Counter({
    name: 'conveyor_job_failures_total',
    help: 'Failed attempts (retried or final), by kind and error code',
    labelNames: ['kind', 'code'] as const,
    registers,
  });
  const stalls = new Counter({
    name: 'conveyor_job_stalls_total',
    help: 'Jobs BullMQ found stalled (lock lost, e.g. a dead or blocked worker) and put back, by queue',
    labelNames: ['queue'] as const,
    registers,
  });
  const reenqueued = new Counter({
    name: 'conveyor_reconciler_reenqueued_total',
    help: 'Jobs the reconciler enqueued again because Redis did not hold them',
    registers,
  });
  const settled = new Counter({
    name: 'conveyor_reconciler_settled_total',
    help: 'Outcomes the reconciler copied from BullMQ to Postgres',
    registers,
  });
  const activeJobs = options.activeJobs;
  new Gauge({
    name: 'conveyor_worker_active_jobs',
    help: 'Jobs running in this worker process',
    registers,
    collect() {
      this.set(activeJobs?.() ?? 0);
    },
  });

  const runner: JobRunnerMetrics = {
    attemptStarted: (kind) => attempts.inc({ kind }),
    attemptEnded: ({ kind, outcome, durationS, code }) => {
      duration.observe({ kind, outcome }, durationS);
      if (code !== undefined) failures.inc({ kind, code });
    },
  };
  const reconciler: ReconcilerMetrics = {
    passCompleted: (report) => {
      reenqueued.inc(report.enqueued);
      settled.inc(report.settled);
    },
  };

  return {
    registry,
    runner,
    reconciler,
    stalled: (queue: string) => stalls.inc({ queue }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
