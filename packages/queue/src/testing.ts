import { randomBytes } from 'node:crypto';
import { connectRedis, masters, type RedisTarget, withTimeout } from './connection';

/** A key prefix (hash tag) of its own for one test file, and a way to delete its keys afterwards. */
export function testPrefix(): string {
  return `{cvt-${randomBytes(4).toString('hex')}}`;
}

/** Deletes the prefix's keys; on a cluster SCAN runs on every master, since it only sees one node's keys. */
export async function deletePrefix(redisUrl: RedisTarget, prefix: string): Promise<void> {
  const redis = connectRedis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    // A cluster client knows its masters only once it has read the slot map.
    if (typeof redisUrl !== 'string') {
      await withTimeout(new Promise((resolve) => redis.once('ready', resolve)), 10_000, 'redis cluster');
    }
    for (const node of masters(redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await node.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
