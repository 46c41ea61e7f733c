import type { Producer } from '@conveyor/queue';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * A token bucket in Redis, run by rate-limiter-flexible's RateLimiterRedis with our own script in place of
 * its fixed-window counter (`customIncrTtlLuaScript`). The library calls the script with
 * KEYS = [key], ARGV = [cost, window s, limiter points, limiter window s] and reads back
 * {consumed, ms}: it refuses when consumed > points, reports remaining = points - consumed and
 * msBeforeNext = ms. So the script answers consumed = capacity - floor(tokens left) when it takes the tokens
 * and capacity + cost (nothing taken) when it refuses, and ms = time until the next whole token, or until
 * enough tokens for the refused cost.
 *
 * State is a hash {tokens, at} that expires once the bucket would be full again. The time is Redis's own
 * (TIME), so API instances with skewed clocks share one bucket correctly. A cost of 0 reads the bucket
 * without writing it.
 */
const TOKEN_BUCKET_LUA = `
local cost = tonumber(ARGV[1])
local capacity = tonumber(ARGV[3])
local per_ms = capacity / (tonumber(ARGV[4]) * 1000)
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local consumed
local missing
if tokens >= cost then
  tokens = tokens - cost
  consumed = capacity - math.floor(tokens)
  missing = math.floor(tokens) + 1 - tokens
else
  consumed = capacity + cost
  missing = cost - tokens
end
if cost > 0 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / per_ms) + 1000)
end
return {consumed, math.ceil(missing / per_ms)}
`;

export interface BucketState {
  /** Whether the tokens were taken. */
  allowed: boolean;
  /** Whole tokens left. */
  remaining: number;
  /** Until the next whole token (allowed), or until enough for the refused cost, in ms. */
  waitMs: number;
}

export interface TokenBuckets {
  /**
   * Takes `cost` tokens from `id`'s bucket of `capacity` tokens, refilled at capacity per window (cost 0:
   * only looks). Rejects when Redis is not ready or fails; never waits for a reconnect.
   */
  take(id: string, capacity: number, cost?: number): Promise<BucketState>;
}

/**
 * Buckets under `keyPrefix` (which starts with the deployment's hash tag). rate-limiter-flexible fixes the
 * capacity per limiter instance, so there is one instance per capacity in use (the default plus tenants'
 * overrides). Every instance on a Redis client registers its script as the same ioredis command
 * (`rlflxIncr`), so all of them must use this script: never mix in a stock RateLimiterRedis on this client.
 */
export function createTokenBuckets(
  redis: Producer['redis'],
  keyPrefix: string,
  windowSeconds: number,
): TokenBuckets {
  const limiters = new Map<number, RateLimiterRedis>();
  const limiterFor = (capacity: number) => {
    let limiter = limiters.get(capacity);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix,
        points: capacity,
        duration: windowSeconds,
        rejectIfRedisNotReady: true,
        customIncrTtlLuaScript: TOKEN_BUCKET_LUA,
      });
      if (limiters.size >= 1_000) limiters.clear();
      limiters.set(capacity, limiter);
    }
    return limiter;
  };

  return {
    async take(id, capacity, cost = 1) {
      try {
        const res = await limiterFor(capacity).consume(id, cost);
        return { allowed: true, remaining: res.remainingPoints, waitMs: res.msBeforeNext };
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        return { allowed: false, remaining: 0, waitMs: error.msBeforeNext };
      }
    },
  };
}
