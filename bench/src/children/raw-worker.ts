/**
 * Baseline: a bare BullMQ Worker with a no-op processor. `drain` adds `jobs` jobs first, then starts the
 * worker and times the first to the last completion; `latency` adds one job at a time to a running worker
 * and reads each job's timestamp → finishedOn. Prints one JSON line.
 *   tsx src/children/raw-worker.ts '{"mode":"drain","redisUrl":…,"prefix":…,"concurrency":5,"jobs":10000}'
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, Queue, Worker } from 'bullmq';
import { connectionOf, NOOP_JOB_OPTIONS, quantile } from './raw-common';

interface Spec {
  mode: 'drain' | 'latency';
  redisUrl: string;
  prefix: string;
  concurrency: number;
  jobs: number;
}

const spec = JSON.parse(process.argv[2]!) as Spec;
const connection = connectionOf(spec.redisUrl);
const queue = new Queue('default', { connection, prefix: spec.prefix });
queue.on('error', (error) => console.error('queue error', error));

const startWorker = (onCompleted: (job: Job) => void) => {
  const worker = new Worker('default', async () => undefined, {
    connection,
    prefix: spec.prefix,
    concurrency: spec.concurrency,
  });
  worker.on('error', (error) => console.error('worker error', error));
  worker.on('completed', onCompleted);
  return worker;
};

if (spec.mode === 'drain') {
  console.log('phase add');
  for (let added = 0; added < spec.jobs; added += 1_000) {
    const n = Math.min(1_000, spec.jobs - added);
    await queue.addBulk(
      Array.from({ length: n }, () => ({ name: 'noop', data: {}, opts: NOOP_JOB_OPTIONS })),
    );
  }
  console.log('phase drain');
  let done = 0;
  let first = 0;
  let cpuBefore = process.cpuUsage();
  let worker: Worker | undefined;
  const last = await new Promise<number>((resolve) => {
    worker = startWorker(() => {
      if (done++ === 0) {
        first = performance.now();
        cpuBefore = process.cpuUsage();
      }
      if (done === spec.jobs) resolve(performance.now());
    });
  });
  const cpu = process.cpuUsage(cpuBefore);
  const wallS = (last - first) / 1000;
  await worker?.close();
  await queue.close();
  console.log(
    JSON.stringify({
      jobs: spec.jobs,
      // The first completion opens the window, so it holds jobs - 1 completions.
      jobsPerS: Math.round((spec.jobs - 1) / wallS),
      seconds: Math.round(wallS * 100) / 100,
      cpuShare: Math.round(((cpu.user + cpu.system) / 1e6 / wallS) * 100) / 100,
    }),
  );
} else {
  const waiting = new Map<string, (job: Job) => void>();
  const worker = startWorker((job) => waiting.get(job.id!)?.(job));
  await worker.waitUntilReady();
  console.log('phase latency');
  const latencies: number[] = [];
  for (let i = 0; i < spec.jobs; i++) {
    // Listen before adding: a fast worker can finish the job before add() returns.
    const id = randomUUID();
    const completed = new Promise<Job>((resolve) => waiting.set(id, resolve));
    await queue.add('noop', {}, { ...NOOP_JOB_OPTIONS, jobId: id });
    const done = await completed;
    waiting.delete(id);
    latencies.push(done.finishedOn! - done.timestamp);
    await sleep(25); // one job at a time: latency on an idle system, as for Conveyor
  }
  await worker.close();
  await queue.close();
  console.log(
    JSON.stringify({
      jobs: spec.jobs,
      p50Ms: quantile(latencies, 0.5),
      p90Ms: quantile(latencies, 0.9),
      p99Ms: quantile(latencies, 0.99),
    }),
  );
}
