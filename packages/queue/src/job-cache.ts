import { createCoalescer } from '@conveyor/shared';
import type { RedisClient } from './connection';
import { withTimeout } from './connection';

/**
 * The read cache of single jobs (`GET /v1/jobs/:id`), one Redis hash per job: `epoch` (bumped by every
 * write), `pending` (writes in progress), `v` (the row's `version`), `t` (tenant id), `b` (the JSON view).
 *
 * The guarantee: a read never answers a state older than one that committed before the read was sent.
 *
 * - Writers wrap their Postgres write in `guard(id, write)`: before it, the cached view is dropped, `pending`
 *   goes up and `epoch` moves; after it (commit or not) `pending` goes down and `epoch` moves again. The
 *   writer acknowledges and announces only after `guard` resolves.
 * - Readers call `get(id)`. While a write is pending it answers a miss that may not be filled (the reader
 *   goes to Postgres). Otherwise a miss carries the `epoch` it saw; the reader reads Postgres and offers the
 *   row with `fill`, which stores it only if the epoch is unchanged, nothing is pending, and no newer
 *   version is cached.
 *
 * Why this holds, for a write committing at C inside guard's [begin B, end E]: a read sent after C that
 * reaches Redis before E sees `pending` and reads Postgres after C. One that reaches Redis after E can only
 * find a view filled after E (E dropped any older one), by a reader whose `get` also came after E (the
 * epoch moved at E), so that reader's Postgres read came after C.
 *
 * Why not only "DEL after commit" with a version compare-and-set: (1) a reader reads version 3, the writer
 * commits 4 and deletes the key, the reader fills 3 into the empty key — no version is there to compare
 * with, so 3 is served until the TTL; the epoch, which outlives the delete, refuses that fill. (2) Between
 * the commit and the DEL the old view is still served to requests sent after the commit; `pending` closes
 * that window. The version check covers two readers racing (an older read finishing after a newer fill).
 *
 * Redis unavailable: reads are misses and Postgres serves them, never an error. A writer that cannot reach
 * Redis while readers can (a partial partition) leaves at most `ttlMs` of staleness; a writer that dies
 * inside `guard` leaves the job uncached (pending) for at most `writeLeaseMs`.
 */
export interface JobCache {
  /** A cached view, or a miss (carrying the epoch to fill with). */
  get(id: string): Promise<CacheHit | CacheMiss>;
  /** Offers a view read from Postgres after `miss`; true when it was stored. */
  fill(
    id: string,
    miss: CacheMiss,
    entry: { version: number; tenantId: string; json: string },
  ): Promise<boolean>;
  /** Runs a Postgres write of the job so that no read can be served a cached view older than its commit. */
  guard<T>(id: string, write: () => Promise<T>): Promise<T>;
  /** Drops the cached views of jobs written already (e.g. just inserted); resolves even if Redis is down. */
  invalidate(...ids: string[]): Promise<void>;
  /** Counters since start, for tests and metrics. */
  readonly stats: { hits: number; misses: number; fills: number; invalidations: number; errors: number };
}

export interface CacheHit {
  hit: true;
  version: number;
  tenantId: string;
  json: string;
}

export interface CacheMiss {
  hit: false;
  /** The epoch seen by `get`; null when the miss may not be filled (Redis not consulted, or a write pending). */
  epoch: string | null;
}

export interface JobCacheOptions {
  /** How long a cached view lives without any invalidation, in ms; default 60 000. */
  ttlMs?: number;
  /** Longest wait for one Redis call, in ms; default 500 (a slow cache must not slow reads down). */
  timeoutMs?: number;
  /** How long a write's `pending` mark outlives a writer that died inside `guard`, in ms; default 300 000. */
  writeLeaseMs?: number;
}

export const jobCacheKey = (prefix: string, id: string) => `${prefix}:job-cache:${id}`;

const FIELDS = ['epoch', 'pending', 'v', 't', 'b'] as const;

// KEYS[1] the job's hash; ARGV: epoch seen at get ('' = none), version, tenant, json, ttl ms.
const FILL = `
local f = redis.call('HMGET', KEYS[1], 'epoch', 'pending', 'v')
if (f[1] or '') ~= ARGV[1] then return 0 end
if f[2] and tonumber(f[2]) > 0 then return 0 end
if f[3] and tonumber(f[3]) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 't', ARGV[3], 'b', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

// KEYS[1] the job's hash; ARGV: pending delta (1 begin, -1 end, 0 invalidate only), ttl ms, write lease ms.
// The epoch outlives the dropped view, so a fill that started before this call is refused.
const WRITE = `
redis.call('HDEL', KEYS[1], 'v', 't', 'b')
redis.call('HINCRBY', KEYS[1], 'epoch', 1)
local pending = redis.call('HINCRBY', KEYS[1], 'pending', tonumber(ARGV[1]))
if pending > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('HSET', KEYS[1], 'pending', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return pending
`;

/** The two scripts as ioredis commands: EVALSHA, loading the script only when Redis does not know it yet. */
interface CacheCommands {
  conveyorJobCacheWrite(key: string, delta: number, ttlMs: number, leaseMs: number): Promise<number>;
  conveyorJobCacheFill(
    key: string,
    epoch: string,
    version: number,
    tenantId: string,
    json: string,
    ttlMs: number,
  ): Promise<number>;
}

// Sending the script text with every EVAL cost a sixth of a worker's CPU per job in a profile (two writes
// per transition, each a pipeline of EVAL + ~400 bytes); as defined commands they go as EVALSHA.
function withCacheCommands(redis: RedisClient): RedisClient & CacheCommands {
  const commands = redis as RedisClient & CacheCommands;
  if (typeof commands.conveyorJobCacheWrite !== 'function') {
    redis.defineCommand('conveyorJobCacheWrite', { numberOfKeys: 1, lua: WRITE });
    redis.defineCommand('conveyorJobCacheFill', { numberOfKeys: 1, lua: FILL });
  }
  return commands;
}

export function createJobCache(client: RedisClient, prefix: string, options: JobCacheOptions = {}): JobCache {
  const redis = withCacheCommands(client);
  const ttlMs = options.ttlMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 500;
  const writeLeaseMs = options.writeLeaseMs ?? 300_000;
  const stats = { hits: 0, misses: 0, fills: 0, invalidations: 0, errors: 0 };
  const ready = () => redis.status === 'ready';
  const key = (id: string) => jobCacheKey(prefix, id);
  const bypass: CacheMiss = { hit: false, epoch: null };
  // The reads of one event-loop turn go to Redis as one pipeline: under load, a socket write per read was
  // a third of a cached GET's CPU in a profile (on loopback the kernel's send path runs in the sender).
  const reads = createCoalescer(async (ids: string[]) => {
    if (ids.length === 1) return [await redis.hmget(key(ids[0]!), ...FIELDS)];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hmget(key(id), ...FIELDS);
    return ((await pipeline.exec()) ?? []).map(([error, fields]) => {
      if (error) throw error;
      return fields as (string | null)[];
    });
  });

  /** One WRITE step for each id; false when Redis could not be reached (nothing is known to have run). */
  /**
   * The WRITE steps of one event-loop turn in one pipeline (a busy worker's jobs start and end together);
   * each answers false when Redis could not be reached (nothing is known to have run).
   */
  const writes = createCoalescer(async (items: { id: string; delta: 1 | 0 | -1 }[]) => {
    try {
      if (items.length === 1) {
        const { id, delta } = items[0]!;
        await withTimeout(
          redis.conveyorJobCacheWrite(key(id), delta, ttlMs, writeLeaseMs),
          timeoutMs * 4,
          'job cache write',
        );
      } else {
        const pipeline = redis.pipeline() as ReturnType<RedisClient['pipeline']> & CacheCommands;
        for (const { id, delta } of items)
          void pipeline.conveyorJobCacheWrite(key(id), delta, ttlMs, writeLeaseMs);
        const replies = (await withTimeout(pipeline.exec(), timeoutMs * 4, 'job cache write')) ?? [];
        if (replies.some(([error]) => error)) throw replies.find(([error]) => error)![0];
      }
      stats.invalidations += items.filter((i) => i.delta !== 1).length;
      return items.map(() => true);
    } catch {
      stats.errors++;
      return items.map(() => false);
    }
  });

  async function write(ids: readonly string[], delta: 1 | 0 | -1): Promise<boolean> {
    if (ids.length === 0) return true;
    if (!ready()) return false;
    const done = await Promise.all(ids.map((id) => writes.add({ id, delta })));
    return done.every(Boolean);
  }

  return {
    stats,
    async get(id) {
      if (!ready()) return bypass;
      try {
        const [epoch, pending, v, t, b] = await withTimeout(reads.add(id), timeoutMs, 'job cache get');
        if (v != null && t != null && b != null) {
          stats.hits++;
          return { hit: true, version: Number(v), tenantId: t, json: b };
        }
        stats.misses++;
        return Number(pending ?? 0) > 0 ? bypass : { hit: false, epoch: epoch ?? '' };
      } catch {
        stats.errors++;
        return bypass;
      }
    },
    async fill(id, miss, entry) {
      if (miss.epoch === null || !ready()) return false;
      try {
        const stored = await withTimeout(
          redis.conveyorJobCacheFill(key(id), miss.epoch, entry.version, entry.tenantId, entry.json, ttlMs),
          timeoutMs,
          'job cache fill',
        );
        if (stored === 1) stats.fills++;
        return stored === 1;
      } catch {
        stats.errors++;
        return false;
      }
    },
    async guard(id, run) {
      const began = await write([id], 1);
      try {
        return await run();
      } finally {
        // A begin that did not reach Redis left no pending mark to take back: invalidate only.
        await write([id], began ? -1 : 0);
      }
    },
    async invalidate(...ids) {
      await write(ids, 0);
    },
  };
}
