import { Queue } from 'bullmq';
import type { RedisClient } from './connection';
import type { QueueJobData } from './job-options';
import { assertHashTagPrefix } from './names';

/** One queue as BullMQ holds it right now. */
export interface QueueStats {
  queue: string;
  /** Jobs ready to run: BullMQ's `wait` list plus its `prioritized` set. */
  waiting: number;
  active: number;
  /** Jobs scheduled for later: a future runAt or a retry backoff. */
  delayed: number;
  /** Jobs BullMQ keeps as failed (final failures and canceled runs, until removed by age/count). */
  failed: number;
  /** Jobs BullMQ keeps as completed (removed by age/count, so a recent window, not a total). */
  completed: number;
  /**
   * Seconds the oldest ready job has waited since it became runnable (added + its delay), or 0 when none
   * wait. For prioritized jobs only the two ends of the set are looked at, so it is a lower bound there.
   */
  oldestWaitingAgeSeconds: number;
}

export interface QueueStatsReader {
  /** Stats of one queue, read at most once per `cacheMs`; concurrent callers share one read. */
  get(queue: string): Promise<QueueStats>;
  all(queues: readonly string[]): Promise<QueueStats[]>;
  close(): Promise<void>;
}

export interface QueueStatsOptions {
  /** How long a read is reused, in ms; default 2 000, so frequent scrapes cannot hammer Redis. */
  cacheMs?: number;
}

/** Reads queue depth and age from BullMQ over an existing connection (which it does not close). */
export function createQueueStats(
  redis: RedisClient,
  prefix: string,
  options: QueueStatsOptions = {},
): QueueStatsReader {
  assertHashTagPrefix(prefix);
  const cacheMs = options.cacheMs ?? 2_000;
  const queues = new Map<string, Queue<QueueJobData>>();
  const cache = new Map<string, { at: number; value: Promise<QueueStats> }>();

  const queueOf = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue<QueueJobData>(name, { connection: redis, prefix });
      queue.on('error', () => {});
      queues.set(name, queue);
    }
    return queue;
  };

  /** When the job became runnable, in ms since the epoch: its timestamp plus the delay it waited out. */
  async function runnableSince(queue: Queue<QueueJobData>, ids: string[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hmget(queue.toKey(id), 'timestamp', 'delay');
    const replies = (await pipeline.exec()) ?? [];
    return replies.flatMap(([error, reply]) => {
      if (error) return [];
      const [timestamp, delay] = reply as [string | null, string | null];
      return timestamp === null ? [] : [Number(timestamp) + Number(delay ?? 0)];
    });
  }

  async function read(name: string): Promise<QueueStats> {
    const queue = queueOf(name);
    const [counts, tail, prioritized] = await Promise.all([
      queue.getJobCounts(
        'wait',
        'prioritized',
        'waiting-children',
        'active',
        'delayed',
        'failed',
        'completed',
      ),
      // BullMQ pushes on the left and takes from the right: the right end is the oldest.
      redis.lrange(queue.toKey('wait'), '-1', '-1'),
      redis
        .zrange(queue.toKey('prioritized'), '0', '0')
        .then(async (head) => [...head, ...(await redis.zrange(queue.toKey('prioritized'), '-1', '-1'))]),
    ]);
    const since = await runnableSince(queue, [...new Set([...tail, ...prioritized])]);
    const now = Date.now();
    const oldest = since.length ? Math.min(...since) : now;
    return {
      queue: name,
      waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
      oldestWaitingAgeSeconds: Math.max(0, (now - oldest) / 1_000),
    };
  }

  const get = (name: string) => {
    const hit = cache.get(name);
    if (hit && Date.now() - hit.at < cacheMs) return hit.value;
    const value = read(name);
    cache.set(name, { at: Date.now(), value });
    // A failed read is not cached: the next caller tries again.
    value.catch(() => cache.get(name)?.value === value && cache.delete(name));
    return value;
  };

  return {
    get,
    all: (names) => Promise.all(names.map(get)),
    async close() {
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
    },
  };
}
