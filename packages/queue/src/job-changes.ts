import { createRedis, type RedisClient, type RedisTarget } from './connection';

/** A job changed state (or its timeline grew): what API instances need to wake waiters and streams. */
export interface JobChange {
  tenantId: string;
  jobId: string;
  type: string;
  status: string;
}

/** One channel for the deployment; each API instance filters locally. */
export const jobChangesChannel = (prefix: string) => `${prefix}:job-changes`;

/** Fire-and-forget: a lost notice delays a waiter until its next check, it never loses state (Postgres has it). */
export function publishJobChange(redis: RedisClient, prefix: string, change: JobChange): void {
  publishJobChanges(redis, prefix, [change]);
}

/**
 * Many changes in one message (a JSON array; one change is sent as a bare object): a batch of 1,000 new
 * jobs is one PUBLISH and one message per API instance, not 1,000.
 */
export function publishJobChanges(redis: RedisClient, prefix: string, changes: readonly JobChange[]): void {
  if (redis.status !== 'ready' || changes.length === 0) return;
  const message = JSON.stringify(changes.length === 1 ? changes[0] : changes);
  redis.publish(jobChangesChannel(prefix), message).catch(() => {});
}

/** Subscribes to job changes on a connection of its own; reconnects and resubscribes by itself. */
export function subscribeJobChanges(
  redisUrl: RedisTarget,
  prefix: string,
  onChange: (change: JobChange) => void,
): { close(): void; ready: Promise<void> } {
  const sub = createRedis(redisUrl, 'subscriber', 'conveyor-job-changes');
  sub.on('error', () => {});
  sub.on('message', (_channel: string, message: string) => {
    try {
      const parsed = JSON.parse(message) as JobChange | JobChange[];
      for (const change of Array.isArray(parsed) ? parsed : [parsed]) onChange(change);
    } catch {
      // A malformed message is ignored; it can only come from outside Conveyor.
    }
  });
  const ready = sub.subscribe(jobChangesChannel(prefix)).then(
    () => undefined,
    () => undefined,
  );
  return { close: () => sub.disconnect(), ready };
}
