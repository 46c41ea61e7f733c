import { type Job, Worker } from 'bullmq';
import { createRedis, type RedisClient, type RedisTarget } from './connection';
import type { QueueJobData } from './job-options';
import { assertHashTagPrefix } from './names';

export type QueueJob = Job<QueueJobData>;
export type Processor = (job: QueueJob, token: string | undefined) => Promise<unknown>;

export interface QueueWorkerOptions {
  /** One server's URL or a cluster's seed nodes. */
  redisUrl: RedisTarget;
  prefix: string;
  queue: string;
  /** Jobs run at once by this process for this queue. */
  concurrency: number;
  /** How long a job's lock lives without renewal, in ms (BullMQ default 30 000); a dead worker's job is
   * taken over after about this long. */
  lockDurationMs: number;
  /** How often stalled jobs are looked for, in ms (BullMQ default 30 000). */
  stalledIntervalMs: number;
  /** Restarts after stalls before BullMQ gives up; Postgres enforces the real attempt budget. */
  maxStalledCount: number;
  processor: Processor;
  /** Delay before the next attempt after `error` (BullMQ's backoffStrategy). */
  retryDelay: (attemptsMade: number, error: Error | undefined, job: QueueJob | undefined) => number;
}

export interface QueueWorker {
  worker: Worker<QueueJobData>;
  /** Drops the Redis connection; call after `worker.close()` has resolved. */
  disconnect(): void;
}

export function createQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const connection: RedisClient = createRedis(options.redisUrl, 'worker', `conveyor-worker-${options.queue}`);
  connection.on('error', () => {});
  const worker = new Worker<QueueJobData>(options.queue, (job, token) => options.processor(job, token), {
    connection,
    prefix: assertHashTagPrefix(options.prefix),
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
    autorun: true,
    settings: {
      backoffStrategy: (attemptsMade, _type, error, job) =>
        options.retryDelay(attemptsMade, error, job as QueueJob | undefined),
    },
  });
  return {
    worker,
    disconnect: () => connection.disconnect(),
  };
}
