import { Redis, type RedisOptions } from 'ioredis';

/**
 * Three kinds of Redis client, because they must fail differently:
 * - producer (API): fail fast. With the offline queue off, a command while Redis is down rejects at once,
 *   so a submit is answered (the row is committed; the reconciler enqueues later) instead of hanging.
 * - worker / subscriber: wait forever. BullMQ's blocking commands need `maxRetriesPerRequest: null`,
 *   and a worker should ride out a Redis restart rather than crash.
 * All of them reconnect with a capped backoff.
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

export function redisOptions(role: RedisRole): RedisOptions {
  const reconnect = { retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2_000) };
  if (role === 'producer') {
    return { ...reconnect, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 };
  }
  return { ...reconnect, enableOfflineQueue: true, maxRetriesPerRequest: null, connectTimeout: 5_000 };
}

export function createRedis(url: string, role: RedisRole, name = `conveyor-${role}`): Redis {
  return new Redis(url, { ...redisOptions(role), connectionName: name, lazyConnect: false });
}

/** Rejects after `ms` so a Redis that accepts connections but never answers cannot hang a request. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
