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
  if (redis.status !== 'ready') return;
  redis.publish(jobChangesChannel(prefix), JSON.stringify(change)).catch(() => {});
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
      onChange(JSON.parse(message) as JobChange);
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
