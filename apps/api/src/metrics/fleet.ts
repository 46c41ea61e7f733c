import {
  createQueueStats,
  listWorkers,
  type Producer,
  type QueueStats,
  type QueueStatsReader,
  RedisUnavailableError,
  recentThroughput,
  type WorkerHeartbeat,
  withTimeout,
} from '@conveyor/queue';

/** Queue depth, recent throughput and the workers online, read through the producer's connection. */
export interface FleetReader {
  queues(names: readonly string[]): Promise<QueueStats[]>;
  throughput(queue: string): Promise<{ completed: number; failed: number }>;
  workers(): Promise<WorkerHeartbeat[]>;
}

/** Built lazily: nothing touches the producer until the first read (createApp must not do I/O). */
export function createFleetReader(producer: Producer): FleetReader {
  let stats: QueueStatsReader | undefined;
  /** Fails fast (answered 503) while Redis is away, and within 2 s when it hangs. */
  const call = <T>(what: string, fn: () => Promise<T>) =>
    producer.redis.status === 'ready'
      ? withTimeout(fn(), 2_000, what)
      : Promise.reject(new RedisUnavailableError());
  return {
    queues(names) {
      stats ??= createQueueStats(producer.redis, producer.prefix);
      const reader = stats;
      return call('queue stats', () => reader.all(names));
    },
    throughput: (queue) => call('throughput', () => recentThroughput(producer.redis, producer.prefix, queue)),
    workers: () => call('workers', () => listWorkers(producer.redis, producer.prefix)),
  };
}
