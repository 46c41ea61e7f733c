import { randomUUID } from 'node:crypto';
import type { RedisClient } from './connection';

/**
 * A lease in Redis (`SET NX PX`) so one process at a time runs a periodic task. Losing Redis loses the
 * lease, which is fine: the next holder simply repeats idempotent work.
 */
export function createLeaderLock(redis: RedisClient, key: string) {
  const token = randomUUID();
  return {
    async tryAcquire(ttlMs: number): Promise<boolean> {
      const renewed = await redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
        1,
        key,
        token,
        String(ttlMs),
      );
      if (renewed === 1) return true;
      return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
    },
  };
}
