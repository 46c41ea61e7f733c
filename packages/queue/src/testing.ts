import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** A key prefix (hash tag) of its own for one test file, and a way to delete its keys afterwards. */
export function testPrefix(): string {
  return `{cvt-${randomBytes(4).toString('hex')}}`;
}

export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
