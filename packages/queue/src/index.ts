export { DelayedError, UnrecoverableError, WaitingError } from 'bullmq';
export { subscribeCancels } from './cancel-listener';
export { createRedis, type RedisRole, redisOptions, withTimeout } from './connection';
export { type JobChange, jobChangesChannel, publishJobChange, subscribeJobChanges } from './job-changes';
export { BACKOFF_TYPE, type EnqueueRef, jobOptions, type QueueJobData } from './job-options';
export { createLeaderLock } from './leader-lock';
export { assertHashTagPrefix, cancelChannel, DEFAULT_PREFIX, reconcilerLockKey } from './names';
export { createProducer, type Producer, type QueueJobSnapshot, RedisUnavailableError } from './producer';
export {
  createQueueWorker,
  type Processor,
  type QueueJob,
  type QueueWorker,
  type QueueWorkerOptions,
} from './worker';
