import { createRedis, type RedisTarget } from './connection';
import { cancelChannel } from './names';

/** Subscribes to cancel requests; `onCancel` gets each job id. Reconnects (and resubscribes) by itself. */
export async function subscribeCancels(
  redisUrl: RedisTarget,
  prefix: string,
  onCancel: (jobId: string) => void,
): Promise<{ close(): void }> {
  const sub = createRedis(redisUrl, 'subscriber', 'conveyor-cancel-listener');
  sub.on('error', () => {});
  sub.on('message', (_channel: string, message: string) => onCancel(message));
  // Not awaited on failure: ioredis resubscribes after reconnecting, and the worker also polls Postgres.
  sub.subscribe(cancelChannel(prefix)).catch(() => {});
  return { close: () => sub.disconnect() };
}
