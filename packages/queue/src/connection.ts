import { Cluster, Redis, type RedisOptions } from 'ioredis';

/**
 * Three kinds of Redis client, because they must fail differently:
 * - producer (API): fail fast. With the offline queue off, a command while Redis is down rejects at once,
 *   so a submit is answered (the row is committed; the reconciler enqueues later) instead of hanging.
 * - worker / subscriber: wait forever. BullMQ's blocking commands need `maxRetriesPerRequest: null`,
 *   and a worker should ride out a Redis restart rather than crash.
 * All of them reconnect with a capped backoff.
 */
export type RedisRole = 'producer' | 'worker' | 'subscriber';

/** A connection to one Redis server or to a Redis Cluster; both speak the same command API. */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is: one server's `redis://`/`rediss://` URL, or the seed nodes of a Redis Cluster (ioredis
 * learns the other nodes and the slot map from them).
 */
export type RedisTarget = string | RedisClusterTarget;

export interface RedisClusterTarget {
  /** `host:port` or `redis[s]://[user:password@]host:port`; credentials and TLS of the first apply to all. */
  clusterNodes: readonly string[];
}

/** The cluster's seed nodes when any are configured (REDIS_CLUSTER_NODES), the single server's URL otherwise. */
export function redisTarget(options: { url: string; clusterNodes?: readonly string[] }): RedisTarget {
  return options.clusterNodes?.length ? { clusterNodes: options.clusterNodes } : options.url;
}

/** Where the target points, without credentials: for logs and start-up hints. */
export function describeRedisTarget(target: RedisTarget): string {
  if (typeof target === 'string') return target.replace(/\/\/[^@/]*@/, '//');
  return `cluster ${target.clusterNodes.map((n) => clusterNodeUrl(n).host).join(',')}`;
}

/** A seed node as written in REDIS_CLUSTER_NODES, as a URL (`host:port` gets `redis://`, port 6379 by default). */
export function clusterNodeUrl(entry: string): URL {
  const url = new URL(/^[a-z]+:\/\//i.test(entry) ? entry : `redis://${entry}`);
  if (
    !['redis:', 'rediss:'].includes(url.protocol) ||
    !url.hostname ||
    (url.pathname && url.pathname !== '/')
  ) {
    throw new Error(`not a Redis node address: ${entry}`);
  }
  return url;
}

export function isRedisNodeAddress(entry: string): boolean {
  try {
    clusterNodeUrl(entry);
    return true;
  } catch {
    return false;
  }
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

export function redisOptions(role: RedisRole): RedisOptions {
  const reconnect = { retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2_000) };
  if (role === 'producer') {
    return { ...reconnect, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 };
  }
  return { ...reconnect, enableOfflineQueue: true, maxRetriesPerRequest: null, connectTimeout: 5_000 };
}

/**
 * A client for the target with these options. On a cluster the role's retry strategy and offline queue
 * become the cluster's own (`clusterRetryStrategy`, `enableOfflineQueue`) and the rest apply to each node's
 * connection, which is where BullMQ looks for `maxRetriesPerRequest: null`. The ready check waits for
 * `cluster_state:ok`, so `status === 'ready'` means the same on both.
 */
export function connectRedis(target: RedisTarget, options: RedisOptions): RedisClient {
  if (typeof target === 'string') return new Redis(target, options);
  const urls = target.clusterNodes.map(clusterNodeUrl);
  const first = urls[0];
  if (!first) throw new Error('a Redis Cluster needs at least one seed node');
  const { retryStrategy, enableOfflineQueue, lazyConnect, ...nodeOptions } = options;
  return new Cluster(
    urls.map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) })),
    {
      clusterRetryStrategy: retryStrategy ? (times: number) => retryStrategy(times) : undefined,
      enableOfflineQueue,
      enableReadyCheck: true,
      lazyConnect,
      slotsRefreshTimeout: options.connectTimeout,
      redisOptions: {
        ...nodeOptions,
        ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
        ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
        ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
}

export function createRedis(target: RedisTarget, role: RedisRole, name = `conveyor-${role}`): RedisClient {
  return connectRedis(target, { ...redisOptions(role), connectionName: name, lazyConnect: false });
}

/**
 * The client for each master: the client itself on a single server, a connection per master on a cluster.
 * For commands that act on one node only (SCAN, FLUSHALL, CONFIG GET), which a cluster client would send
 * to a single, arbitrary node.
 */
export function masters(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/** Rejects after `ms` so a Redis that accepts connections but never answers cannot hang a request. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
