import { once } from 'node:events';
import { uuidv7 } from '@conveyor/shared';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnqueueRef } from './job-options';
import { createProducer, type Producer, RedisUnavailableError } from './producer';
import { deletePrefix, testPrefix } from './testing';
import { createQueueWorker } from './worker';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = testPrefix();

let producer: Producer;
/** A separate connection for reading queue state, so assertions do not go through the code under test. */
let observer: Redis;
const observed: Queue[] = [];

/** Each test gets a queue of its own, so counts are not shared. */
let queueSeq = 0;
const newQueueName = () => `q${++queueSeq}`;

const ref = (queue: string, overrides: Partial<EnqueueRef> = {}): EnqueueRef => ({
  id: uuidv7(),
  type: 'noop',
  queue,
  priority: 0,
  runAt: new Date(),
  generation: 0,
  attemptsLeft: 3,
  ...overrides,
});

function observe(name: string): Queue {
  const queue = new Queue(name, { connection: observer, prefix });
  observed.push(queue);
  return queue;
}

async function jobCount(name: string): Promise<number> {
  const counts = await observe(name).getJobCounts(
    'waiting',
    'delayed',
    'prioritized',
    'active',
    'completed',
    'failed',
  );
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  observer = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  producer = createProducer({ redisUrl: REDIS_URL, prefix });
  // The producer fails fast until its connection is ready (see the fail-fast tests below).
  if (producer.redis.status !== 'ready') await once(producer.redis, 'ready');
});

afterAll(async () => {
  await producer?.close();
  await Promise.allSettled(observed.map((q) => q.close()));
  observer?.disconnect();
  await deletePrefix(REDIS_URL, prefix);
});

/** Runs one job of `queue` to completion with a real worker, then stops the worker. */
async function completeOne(queue: string, returnValue: unknown): Promise<void> {
  const { worker, disconnect } = createQueueWorker({
    redisUrl: REDIS_URL,
    prefix,
    queue,
    concurrency: 1,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
    maxStalledCount: 1,
    processor: async () => returnValue,
    retryDelay: () => 0,
  });
  try {
    await once(worker, 'completed');
  } finally {
    await worker.close();
    disconnect();
  }
}

describe('producer against a real Redis', () => {
  it('enqueues a job that snapshot shows as pending, with its generation', async () => {
    const queue = newQueueName();
    const job = ref(queue, { generation: 4 });
    await producer.enqueue(job);
    expect(await producer.snapshot(queue, job.id)).toEqual({
      generation: 4,
      state: 'pending',
      returnValue: null,
      failedReason: undefined,
    });
    const stored = await observe(queue).getJob(job.id);
    expect(stored?.name).toBe('noop');
    expect(stored?.data).toEqual({ gen: 4 });
  });

  it('returns null from snapshot for a job it does not hold', async () => {
    expect(await producer.snapshot(newQueueName(), uuidv7())).toBeNull();
  });

  it('keeps one job when the same id is enqueued twice', async () => {
    const queue = newQueueName();
    const job = ref(queue);
    await producer.enqueue(job);
    await producer.enqueue(job);
    await producer.enqueueMany([job, job]);
    expect(await jobCount(queue)).toBe(1);
  });

  it('puts a job with a future runAt in the delayed set', async () => {
    const queue = newQueueName();
    const job = ref(queue, { runAt: new Date(Date.now() + 60_000) });
    await producer.enqueue(job);
    expect(await observe(queue).getJobState(job.id)).toBe('delayed');
    expect((await producer.snapshot(queue, job.id))?.state).toBe('pending');
  });

  it('enqueues many jobs across queues in one call', async () => {
    const [a, b] = [newQueueName(), newQueueName()];
    await producer.enqueueMany([ref(a), ref(b), ref(a, { generation: 2 })]);
    expect(await jobCount(a)).toBe(2);
    expect(await jobCount(b)).toBe(1);
  });

  it('inspect reports which ids exist, with their generation, and which are missing', async () => {
    const queue = newQueueName();
    const held = ref(queue, { generation: 0 });
    const heldNewer = ref(queue, { generation: 3 });
    const missing = uuidv7();
    await producer.enqueueMany([held, heldNewer]);

    const found = await producer.inspect(queue, [held.id, missing, heldNewer.id]);
    expect([...found.entries()].sort()).toEqual(
      [
        [held.id, { generation: 0, finished: false }],
        [heldNewer.id, { generation: 3, finished: false }],
      ].sort(),
    );
    expect(found.has(missing)).toBe(false);
    expect((await producer.inspect(queue, [])).size).toBe(0);
  });

  it('replace drops a finished job of an older generation and adds the new one', async () => {
    const queue = newQueueName();
    const old = ref(queue, { generation: 0 });
    await producer.enqueue(old);
    await completeOne(queue, { ok: true });

    expect(await producer.snapshot(queue, old.id)).toMatchObject({
      generation: 0,
      state: 'completed',
      returnValue: { ok: true },
    });
    expect((await producer.inspect(queue, [old.id])).get(old.id)).toEqual({ generation: 0, finished: true });

    // A plain enqueue of the new life is a no-op: BullMQ still holds the finished job under this id.
    await producer.enqueue({ ...old, generation: 1 });
    expect((await producer.snapshot(queue, old.id))?.generation).toBe(0);

    await producer.replace({ ...old, generation: 1 });
    expect(await producer.snapshot(queue, old.id)).toEqual({
      generation: 1,
      state: 'pending',
      returnValue: null,
      failedReason: undefined,
    });
    expect(await jobCount(queue)).toBe(1);
  });

  it('replace keeps a job of the same generation', async () => {
    const queue = newQueueName();
    const job = ref(queue, { generation: 2 });
    await producer.enqueue(job);
    const before = await observe(queue).getJob(job.id);
    await producer.replace(job);
    const after = await observe(queue).getJob(job.id);
    expect(after?.timestamp).toBe(before?.timestamp);
    expect(await jobCount(queue)).toBe(1);
  });

  it('replace adds a job that is not held at all', async () => {
    const queue = newQueueName();
    const job = ref(queue, { generation: 1 });
    await producer.replace(job);
    expect((await producer.snapshot(queue, job.id))?.generation).toBe(1);
  });

  it('remove deletes a job', async () => {
    const queue = newQueueName();
    const job = ref(queue);
    await producer.enqueue(job);
    await producer.remove(queue, job.id);
    expect(await producer.snapshot(queue, job.id)).toBeNull();
  });

  it('keeps every key under its hash-tag prefix', async () => {
    const ours = await observer.keys(`*${prefix.slice(1, -1)}*`);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.every((key) => key.startsWith(`${prefix}:`))).toBe(true);
  });
});

describe('producer when Redis is unreachable', () => {
  let down: Producer;

  beforeAll(() => {
    down = createProducer({ redisUrl: 'redis://127.0.0.1:1', prefix: testPrefix() });
  });

  afterAll(async () => {
    await down?.close();
  });

  async function timedRejection(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
    const started = performance.now();
    try {
      await call();
    } catch (error) {
      return { error, ms: performance.now() - started };
    }
    throw new Error('expected the call to reject');
  }

  it('rejects enqueue with RedisUnavailableError at once', async () => {
    const { error, ms } = await timedRejection(() => down.enqueue(ref('default')));
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(ms).toBeLessThan(250);
  });

  it('still rejects at once while reconnecting', async () => {
    // Let the first connection attempts fail so the client is in its reconnect loop.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(down.redis.status).not.toBe('ready');
    for (const call of [
      () => down.enqueue(ref('default')),
      () => down.enqueueMany([ref('default')]),
      () => down.snapshot('default', uuidv7()),
      () => down.ping(),
    ]) {
      const { error, ms } = await timedRejection(call);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(ms).toBeLessThan(250);
    }
  });
});
