import { masters, type RedisClient } from './connection';

/**
 * Worker heartbeats and completion counts: what `GET /v1/queues` shows besides BullMQ's own counts.
 * Heartbeats live in one hash per deployment (`<prefix>:workers`, field = worker id); completions in
 * per-queue 10-second buckets (`<prefix>:throughput:<queue>:<outcome>:<bucket>`) that expire by themselves.
 */

/** What a worker process says about itself every heartbeat interval. */
export interface WorkerHeartbeat {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  /** Concurrency per queue. */
  concurrency: Record<string, number>;
  /** Jobs running in the process right now. */
  active: number;
  /** ISO timestamps. */
  startedAt: string;
  lastSeen: string;
  /** The sender's heartbeat interval, in ms: a heartbeat older than three of these is stale. */
  intervalMs: number;
}

export type JobOutcomeCount = 'completed' | 'failed';

export const workersKey = (prefix: string) => `${prefix}:workers`;
const BUCKET_MS = 10_000;
const WINDOW_BUCKETS = 6;
const throughputKey = (prefix: string, queue: string, outcome: JobOutcomeCount, bucket: number) =>
  `${prefix}:throughput:${queue}:${outcome}:${bucket}`;

/** Writes (or refreshes) a heartbeat. */
export async function writeHeartbeat(
  redis: RedisClient,
  prefix: string,
  beat: WorkerHeartbeat,
): Promise<void> {
  await redis.hset(workersKey(prefix), beat.id, JSON.stringify(beat));
}

/** Removes a worker's heartbeat (on a graceful stop, so it leaves the fleet at once). */
export async function removeHeartbeat(redis: RedisClient, prefix: string, id: string): Promise<void> {
  await redis.hdel(workersKey(prefix), id);
}

/**
 * The workers whose heartbeat is fresh (within three of their intervals). Heartbeats stale for more than
 * ten minutes are deleted on the way, so crashed processes do not pile up in the hash.
 */
export async function listWorkers(
  redis: RedisClient,
  prefix: string,
  now = Date.now(),
): Promise<WorkerHeartbeat[]> {
  const all = await redis.hgetall(workersKey(prefix));
  const online: WorkerHeartbeat[] = [];
  const dead: string[] = [];
  for (const [id, raw] of Object.entries(all)) {
    let beat: WorkerHeartbeat;
    try {
      beat = JSON.parse(raw) as WorkerHeartbeat;
    } catch {
      dead.push(id);
      continue;
    }
    const age = now - Date.parse(beat.lastSeen);
    if (age <= 3 * beat.intervalMs) online.push(beat);
    else if (!(age < 600_000)) dead.push(id);
  }
  if (dead.length) await redis.hdel(workersKey(prefix), ...dead);
  return online.sort((a, b) => a.id.localeCompare(b.id));
}

/** Counts one finished job towards its queue's throughput (fire-and-forget is fine: it is a statistic). */
export async function countJobOutcome(
  redis: RedisClient,
  prefix: string,
  queue: string,
  outcome: JobOutcomeCount,
  now = Date.now(),
  count = 1,
): Promise<void> {
  const key = throughputKey(prefix, queue, outcome, Math.floor(now / BUCKET_MS));
  await redis
    .multi()
    .incrby(key, count)
    .pexpire(key, BUCKET_MS * (WINDOW_BUCKETS + 2))
    .exec();
}

/** Jobs of the queue that finished with each outcome in the last minute (six 10-second buckets). */
export async function recentThroughput(
  redis: RedisClient,
  prefix: string,
  queue: string,
  now = Date.now(),
): Promise<Record<JobOutcomeCount, number>> {
  const current = Math.floor(now / BUCKET_MS);
  const buckets = Array.from({ length: WINDOW_BUCKETS }, (_, i) => current - i);
  const outcomes: JobOutcomeCount[] = ['completed', 'failed'];
  const keys = outcomes.flatMap((o) => buckets.map((b) => throughputKey(prefix, queue, o, b)));
  const values = await redis.mget(...keys);
  const sum = (o: number) =>
    values.slice(o * WINDOW_BUCKETS, (o + 1) * WINDOW_BUCKETS).reduce((n, v) => n + Number(v ?? 0), 0);
  return { completed: sum(0), failed: sum(1) };
}

/**
 * Redis's `maxmemory-policy`, or undefined where `CONFIG GET` is not allowed (some managed services).
 * Anything but `noeviction` lets Redis drop queue keys under memory pressure. On a cluster every master is
 * asked (CONFIG GET answers for one node only) and a master that may evict wins, so readiness warns about it.
 */
export async function maxmemoryPolicy(redis: RedisClient): Promise<string | undefined> {
  const policies = await Promise.all(
    masters(redis).map(async (node) => {
      try {
        const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
        return reply[1];
      } catch {
        return undefined;
      }
    }),
  );
  return policies.find((p) => p !== undefined && p !== 'noeviction') ?? policies.find((p) => p !== undefined);
}
