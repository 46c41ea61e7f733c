import { Job, Queue } from 'bullmq';
import { createRedis, type RedisClient, type RedisTarget, withTimeout } from './connection';
import { createJobCache, type JobCache } from './job-cache';
import { type JobChange, publishJobChanges } from './job-changes';
import { type EnqueueRef, jobOptions, type QueueJobData } from './job-options';
import { assertHashTagPrefix, cancelChannel } from './names';

export interface ProducerOptions {
  /** One server's URL or a cluster's seed nodes. */
  redisUrl: RedisTarget;
  /** Hash-tag key prefix, e.g. `{conveyor}`. */
  prefix: string;
  /** Longest wait for one Redis call, in ms; default 2 000. */
  timeoutMs?: number;
  /** Lifetime of a cached job view without invalidation, in ms; default 60 000. */
  jobCacheTtlMs?: number;
}

/** What BullMQ holds of one job: what the reconciler compares with the Postgres row. */
export interface QueueJobSnapshot {
  generation: number;
  state: 'pending' | 'completed' | 'failed';
  returnValue: unknown;
  failedReason: string | undefined;
}

export interface Producer {
  /** Adds the job (job id = row id, so adding twice is harmless). Rejects at once when Redis is down. */
  enqueue(ref: EnqueueRef): Promise<void>;
  enqueueMany(refs: readonly EnqueueRef[]): Promise<void>;
  /** For a job starting a new life: drops the finished BullMQ job of its old life, then adds. */
  replace(ref: EnqueueRef): Promise<void>;
  snapshot(queue: string, id: string): Promise<QueueJobSnapshot | null>;
  /** One round trip for many ids: which exist, of which generation, and whether they finished. */
  inspect(
    queue: string,
    ids: readonly string[],
  ): Promise<Map<string, { generation: number; finished: boolean }>>;
  remove(queue: string, id: string): Promise<void>;
  /** Tells every worker to stop this job if it runs it. */
  publishCancel(id: string): Promise<void>;
  /** Tells every API instance that a job changed (fire-and-forget). */
  publishChange(change: JobChange): void;
  /** Many changes in one message (fire-and-forget). */
  publishChanges(changes: readonly JobChange[]): void;
  /** The read cache of single jobs: the API reads and fills it, every writer invalidates after its commit. */
  readonly jobCache: JobCache;
  ping(): Promise<void>;
  readonly redis: RedisClient;
  /** The deployment's hash-tag key prefix, for other keys that belong to it (e.g. the API's rate limits). */
  readonly prefix: string;
  /** The producer's BullMQ Queue for `name` (made on first use, closed by close()), e.g. for Bull Board. */
  queue(name: string): Queue<QueueJobData>;
  close(): Promise<void>;
}

export class RedisUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('Redis is not connected', { cause });
    this.name = 'RedisUnavailableError';
  }
}

export function createProducer(options: ProducerOptions): Producer {
  const prefix = assertHashTagPrefix(options.prefix);
  const timeoutMs = options.timeoutMs ?? 2_000;
  const redis = createRedis(options.redisUrl, 'producer', 'conveyor-producer');
  // Reconnects are logged by whoever owns the process; an unhandled 'error' event would crash it.
  redis.on('error', () => {});
  const queues = new Map<string, Queue<QueueJobData>>();
  let changesOfTurn: JobChange[] = [];
  const flushChanges = () => {
    const changes = changesOfTurn;
    changesOfTurn = [];
    publishJobChanges(redis, prefix, changes);
  };
  const publishOnTurn = (changes: readonly JobChange[]) => {
    if (changes.length === 0) return;
    if (changesOfTurn.length === 0) setImmediate(flushChanges);
    changesOfTurn.push(...changes);
  };

  const queueOf = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue<QueueJobData>(name, { connection: redis, prefix });
      queue.on('error', () => {});
      queues.set(name, queue);
    }
    return queue;
  };

  /** Fails fast instead of waiting for BullMQ to see a ready connection. */
  const call = <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (redis.status !== 'ready') return Promise.reject(new RedisUnavailableError());
    return withTimeout(fn(), timeoutMs, what);
  };

  const add = (ref: EnqueueRef) => queueOf(ref.queue).add(ref.type, { gen: ref.generation }, jobOptions(ref));

  const jobCache = createJobCache(redis, prefix, { ttlMs: options.jobCacheTtlMs });

  return {
    redis,
    prefix,
    jobCache,
    queue: queueOf,
    enqueue: (ref) => call('enqueue', async () => void (await add(ref))),
    enqueueMany: (refs) =>
      call('enqueueMany', async () => {
        const byQueue = new Map<string, EnqueueRef[]>();
        for (const ref of refs) byQueue.set(ref.queue, [...(byQueue.get(ref.queue) ?? []), ref]);
        await Promise.all(
          [...byQueue].map(([name, group]) =>
            queueOf(name).addBulk(
              group.map((ref) => ({ name: ref.type, data: { gen: ref.generation }, opts: jobOptions(ref) })),
            ),
          ),
        );
      }),
    replace: (ref) =>
      call('replace', async () => {
        const existing = await Job.fromId<QueueJobData>(queueOf(ref.queue), ref.id);
        if (existing && existing.data.gen !== ref.generation) {
          // Fails (and we let it throw) only if the old job is still locked by a worker; the reconciler
          // replaces it once that worker lets go.
          await existing.remove();
        }
        await add(ref);
      }),
    snapshot: (queueName, id) =>
      call('snapshot', async () => {
        const job = await Job.fromId<QueueJobData>(queueOf(queueName), id);
        if (!job) return null;
        let state: QueueJobSnapshot['state'] = 'pending';
        if (job.finishedOn) {
          const raw = await job.getState();
          state = raw === 'completed' ? 'completed' : raw === 'failed' ? 'failed' : 'pending';
        }
        return {
          generation: job.data?.gen ?? 0,
          state,
          returnValue: job.returnvalue,
          failedReason: job.failedReason || undefined,
        };
      }),
    inspect: (queueName, ids) =>
      call('inspect', async () => {
        const queue = queueOf(queueName);
        const pipeline = redis.pipeline();
        for (const id of ids) pipeline.hmget(queue.toKey(id), 'data', 'finishedOn');
        const replies = (await pipeline.exec()) ?? [];
        const found = new Map<string, { generation: number; finished: boolean }>();
        replies.forEach(([error, reply], i) => {
          if (error) throw error;
          const [data, finishedOn] = reply as [string | null, string | null];
          if (data === null) return;
          const generation = (JSON.parse(data) as Partial<QueueJobData>).gen ?? 0;
          found.set(ids[i]!, { generation, finished: Boolean(finishedOn) });
        });
        return found;
      }),
    remove: (queueName, id) => call('remove', async () => void (await queueOf(queueName).remove(id))),
    // The changes of one event-loop turn (a worker's starts and ends, an API's coalesced submits) go out as
    // one message: a PUBLISH per change was a twentieth of a worker's CPU per job in a profile.
    publishChange: (change) => publishOnTurn([change]),
    publishChanges: publishOnTurn,
    publishCancel: (id) =>
      call('publishCancel', async () => void (await redis.publish(cancelChannel(prefix), id))),
    ping: () => call('ping', async () => void (await redis.ping())),
    async close() {
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      redis.disconnect();
    },
  };
}
