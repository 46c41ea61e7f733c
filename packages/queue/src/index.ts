export { DelayedError, UnrecoverableError, WaitingError } from 'bullmq';
export { type BoardQueue, boardQueues } from './board';
export { subscribeCancels } from './cancel-listener';
export { createRedis, type RedisRole, redisOptions, withTimeout } from './connection';
export {
  countJobOutcome,
  type JobOutcomeCount,
  listWorkers,
  maxmemoryPolicy,
  recentThroughput,
  removeHeartbeat,
  type WorkerHeartbeat,
  workersKey,
  writeHeartbeat,
} from './fleet';
export {
  type CacheHit,
  type CacheMiss,
  createJobCache,
  type JobCache,
  type JobCacheOptions,
  jobCacheKey,
} from './job-cache';
export { type JobChange, jobChangesChannel, publishJobChange, subscribeJobChanges } from './job-changes';
export { BACKOFF_TYPE, type EnqueueRef, enqueueRefOf, jobOptions, type QueueJobData } from './job-options';
export { createLeaderLock } from './leader-lock';
export { assertHashTagPrefix, cancelChannel, DEFAULT_PREFIX, reconcilerLockKey } from './names';
export { createProducer, type Producer, type QueueJobSnapshot, RedisUnavailableError } from './producer';
export {
  createQueueStats,
  type QueueStats,
  type QueueStatsOptions,
  type QueueStatsReader,
} from './queue-stats';
export {
  createQueueWorker,
  type Processor,
  type QueueJob,
  type QueueWorker,
  type QueueWorkerOptions,
} from './worker';
