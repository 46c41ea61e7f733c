import { resolve } from 'node:path';

/**
 * The only module of the bench that reads the environment. Benchmarks are tools, not apps: every knob has a
 * default that runs on a laptop, and BENCH_QUICK=1 shrinks everything to a smoke run of a couple of minutes.
 */
const env = process.env;
const int = (name: string, fallback: number) => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
};

export const quick = env.BENCH_QUICK === '1';

export const benchConfig = {
  quick,
  /** Seconds each load-generator scenario runs (submit, batch, reads). */
  durationS: int('BENCH_DURATION_S', quick ? 4 : 10),
  /** Seconds of unmeasured load before each load-generator run (JIT, connection pools, caches). */
  warmupS: int('BENCH_WARMUP_S', quick ? 1 : 3),
  /** Connections of the submit scenarios (the target speaks of p99 at 50). */
  submitConnections: int('BENCH_SUBMIT_CONNECTIONS', 50),
  /** Connections of the read scenarios. */
  readConnections: int('BENCH_READ_CONNECTIONS', 20),
  /** Requests (or addBulk calls) in flight in the batch scenario, each of `batchSize` jobs. */
  batchConnections: int('BENCH_BATCH_CONNECTIONS', 4),
  batchSize: 1_000,
  /** Jobs drained by one worker (ours, raw BullMQ, pg-boss, graphile-worker); the peers also submit this many. */
  drainJobs: int('BENCH_DRAIN_JOBS', quick ? 2_000 : 10_000),
  /** Jobs drained by 1, 2 and 4 worker processes (issue 6). */
  scalingJobs: int('BENCH_SCALING_JOBS', quick ? 4_000 : 20_000),
  scalingWorkers: (env.BENCH_SCALING_WORKERS ?? '1,2,4').split(',').map(Number),
  /** Jobs submitted one at a time for submit → succeeded latency. */
  latencyJobs: int('BENCH_LATENCY_JOBS', quick ? 30 : 200),
  /** Worker concurrency for every drain (ours: the default WORKER_CONCURRENCY). */
  workerConcurrency: 5,
  /** Comma list of scenario groups to run: submit, batch, read, processing, peers, scaling (default all). */
  only: new Set((env.BENCH_ONLY ?? '').split(',').filter(Boolean)),
  /** Start the API and workers under `node --cpu-prof` (profiles in bench/results/profiles). */
  profile: env.BENCH_PROFILE === '1',
  /** A results JSON whose report (latest.md, latest.svg) is rendered again instead of running anything. */
  // npm runs workspace scripts in the workspace; INIT_CWD is where the command was typed.
  render: env.BENCH_RENDER ? resolve(env.INIT_CWD ?? process.cwd(), env.BENCH_RENDER) : undefined,
  soakDurationS: int('BENCH_SOAK_S', 600),
  /** Requests per second of each soak load (submits, reads). */
  soakRate: int('BENCH_SOAK_RATE', 100),
  redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  /** Server the scratch databases are created on (any database on it; the bench creates its own). */
  postgresUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};

export type BenchConfig = typeof benchConfig;

export const runs = (group: string) => benchConfig.only.size === 0 || benchConfig.only.has(group);
