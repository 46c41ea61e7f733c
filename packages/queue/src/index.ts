export { DelayedError, UnrecoverableError, WaitingError } from 'bullmq';
export { type BoardQueue, boardQueues } from './board';
export { subscribeCancels } from './cancel-listener';
export {
  clusterNodeUrl,
  connectRedis,
  createRedis,
  describeRedisTarget,
  isCluster,
  isRedisNodeAddress,
  masters,
  type RedisClient,
  type RedisClusterTarget,
  type RedisRole,
  type RedisTarget,
  redisOptions,
  redisTarget,
  withTimeout,
} from './connection';
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
export { handOffNewJobs, type NewJobRef } from './hand-off';
export {
  type CacheHit,
  type CacheMiss,
  createJobCache,
  type JobCache,
  type JobCacheOptions,
  jobCacheKey,
} from './job-cache';
export {
  type JobChange,
  jobChangesChannel,
  publishJobChange,
  publishJobChanges,
  subscribeJobChanges,
} from './job-changes';
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
  createScheduleMirror,
  SCHEDULE_FIRING_NAME,
  type ScheduleFiringData,
  type ScheduleMirror,
  type ScheduleMirrorRef,
} from './schedules';
export { enqueueWebhook, type WebhookMessageRef } from './webhook-queue';
export {
  createQueueWorker,
  type Processor,
  type QueueJob,
  type QueueWorker,
  type QueueWorkerOptions,
} from './worker';
