import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobChange, subscribeJobChanges } from './job-changes';
import { createProducer, type Producer } from './producer';
import { deletePrefix, testPrefix } from './testing';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = testPrefix();
let producer: Producer;

beforeAll(async () => {
  producer = createProducer({ redisUrl: REDIS_URL, prefix });
  if (producer.redis.status !== 'ready') await once(producer.redis, 'ready');
});

afterAll(async () => {
  await deletePrefix(REDIS_URL, prefix);
  await producer.close();
});

const change = (n: number): JobChange => ({ tenantId: 't', jobId: `j${n}`, type: 'noop', status: 'queued' });

describe('job changes', () => {
  it('delivers single changes and a batch sent as one message, in order', async () => {
    const seen: string[] = [];
    const sub = subscribeJobChanges(REDIS_URL, prefix, (c) => seen.push(c.jobId));
    await sub.ready;
    try {
      producer.publishChange(change(1));
      producer.publishChanges([change(2), change(3), change(4)]);
      producer.publishChanges([]);
      for (let i = 0; i < 50 && seen.length < 4; i++) await sleep(20);
      expect(seen).toEqual(['j1', 'j2', 'j3', 'j4']);
    } finally {
      sub.close();
    }
  });
});
