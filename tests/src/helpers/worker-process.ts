import type { Harness } from './harness';
import { type AppProcess, startApp } from './processes';
import { waitFor } from './wait';

/**
 * A real worker process on the harness's database and key prefix, with short lock and stall timings so
 * a dead or frozen worker's job is taken over within seconds (production defaults: 30 s).
 */
export async function startWorkerProcess(
  h: Harness,
  name: string,
  env: Record<string, string> = {},
  startTimeoutMs = 20_000,
): Promise<AppProcess> {
  const worker = startApp(
    'worker',
    {
      DATABASE_URL: h.db.url,
      REDIS_URL: h.redisUrl,
      QUEUE_PREFIX: h.prefix,
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      WORKER_SHUTDOWN_GRACE_MS: '5000',
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_GRACE_MS: '3000',
      WORKER_CANCEL_POLL_MS: '500',
      // Several workers run side by side here: no fixed metrics port (a test wanting one passes it).
      WORKER_METRICS_PORT: '0',
      ...env,
    },
    name,
  );
  await worker.waitForLine(/"worker started"/, startTimeoutMs);
  return worker;
}

/** Log lines of `proc` that mention `jobId` and contain `msg`. */
export const linesFor = (proc: AppProcess, jobId: string, msg: string) =>
  proc.lines.filter((l) => l.includes(jobId) && l.includes(msg));

/** Which of `procs` started `jobId` (waits until one logs it): the test then knows whom to signal. */
export const workerThatStarted = (procs: AppProcess[], jobId: string, timeoutMs = 20_000) =>
  waitFor(
    `a worker to start ${jobId}`,
    () => procs.find((p) => linesFor(p, jobId, 'job started').length > 0),
    timeoutMs,
    50,
  );
