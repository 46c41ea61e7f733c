import { afterAll, afterEach, beforeAll } from 'vitest';
import { createHarness, type Harness } from './harness';
import type { AppProcess } from './processes';
import { type PrivateRedis, startPrivateRedis } from './redis-server';

/** What `usePrivateRedisHarness` gives the tests of a `describe`. */
export interface PrivateRedisHarness {
  redis(): PrivateRedis;
  harness(): Harness;
  /** Processes to kill after the current test. */
  track(...procs: AppProcess[]): void;
}

/**
 * One harness for the enclosing `describe` on a private redis-server, for tests that stop, restart or
 * flush Redis (never the shared one). After each test the tracked processes are killed and Redis is started
 * again if the test left it down.
 */
export function usePrivateRedisHarness(): PrivateRedisHarness {
  let redis: PrivateRedis | undefined;
  let h: Harness | undefined;
  const procs: AppProcess[] = [];
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`usePrivateRedisHarness: no ${what} outside the describe's tests`);
    return value;
  };

  beforeAll(async () => {
    redis = await startPrivateRedis();
    h = await createHarness({ redisUrl: redis.url });
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
    await redis?.start().catch(() => undefined);
  });
  afterAll(async () => {
    await h?.close();
    await redis?.close();
  });

  return {
    redis: () => need(redis, 'Redis'),
    harness: () => need(h, 'harness'),
    track: (...more) => void procs.push(...more),
  };
}
