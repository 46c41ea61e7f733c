/**
 * Every BullMQ key starts with the prefix, which is a Redis Cluster hash tag (`{conveyor}`): all keys of a
 * deployment hash to one slot, so BullMQ's multi-key Lua scripts run on Cluster unchanged. Tests use a
 * prefix of their own so files share one Redis without seeing each other.
 */
export const DEFAULT_PREFIX = '{conveyor}';

export function assertHashTagPrefix(prefix: string): string {
  if (!/^\{[A-Za-z0-9_.-]+\}$/.test(prefix)) {
    throw new Error(`queue prefix must be a hash tag like {conveyor}, got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/** The pub/sub channel on which the API asks workers to stop a running job. */
export const cancelChannel = (prefix: string) => `${prefix}:cancel`;

/** The key that elects one reconciler at a time. */
export const reconcilerLockKey = (prefix: string) => `${prefix}:reconciler:lock`;
