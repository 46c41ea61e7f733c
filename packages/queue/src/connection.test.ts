import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  clusterNodeUrl,
  connectRedis,
  describeRedisTarget,
  isRedisNodeAddress,
  redisOptions,
  redisTarget,
} from './connection';

describe('Redis targets', () => {
  it('uses the cluster seed nodes when any are given, the URL otherwise', () => {
    expect(redisTarget({ url: 'redis://a:6379', clusterNodes: [] })).toBe('redis://a:6379');
    expect(redisTarget({ url: 'redis://a:6379', clusterNodes: ['b:7000'] })).toEqual({
      clusterNodes: ['b:7000'],
    });
  });

  it('reads seed nodes as host:port or redis(s) URLs and refuses anything else', () => {
    expect(clusterNodeUrl('10.0.0.1:7000').href).toBe('redis://10.0.0.1:7000');
    expect(clusterNodeUrl('rediss://u:p%40ss@cache.internal:6380').password).toBe('p%40ss');
    expect(clusterNodeUrl('[::1]:7000').hostname).toBe('[::1]');
    for (const bad of ['http://a:1', 'redis://a:1/2', 'redis://:7000', '', 'a b:1']) {
      expect(isRedisNodeAddress(bad), bad).toBe(false);
    }
  });

  it('describes a target without its credentials', () => {
    expect(describeRedisTarget('redis://user:secret@host:6379')).toBe('redis://host:6379');
    expect(describeRedisTarget({ clusterNodes: ['redis://:secret@a:7000', 'b:7001'] })).toBe(
      'cluster a:7000,b:7001',
    );
  });

  it("maps a role's options onto a cluster: retry and offline queue on the cluster, the rest per node", async () => {
    const worker = connectRedis(
      { clusterNodes: ['rediss://u:p%40ss@127.0.0.1:1'] },
      {
        ...redisOptions('worker'),
        lazyConnect: true,
      },
    );
    const producer = connectRedis(
      { clusterNodes: ['127.0.0.1:1'] },
      { ...redisOptions('producer'), lazyConnect: true },
    );
    const single = connectRedis('redis://127.0.0.1:1', { ...redisOptions('producer'), lazyConnect: true });
    try {
      expect(worker).toBeInstanceOf(Cluster);
      expect(single).toBeInstanceOf(Redis);
      const w = (worker as Cluster).options;
      expect(w.enableOfflineQueue).toBe(true);
      expect(w.enableReadyCheck).toBe(true);
      expect(w.clusterRetryStrategy?.(10)).toBe(2_000);
      // BullMQ reads maxRetriesPerRequest from the nodes' options of a cluster.
      expect(w.redisOptions).toMatchObject({
        maxRetriesPerRequest: null,
        username: 'u',
        password: 'p@ss',
        tls: {},
      });
      const p = (producer as Cluster).options;
      expect(p.enableOfflineQueue).toBe(false);
      expect(p.redisOptions).toMatchObject({ maxRetriesPerRequest: 1, connectTimeout: 2_000 });
      expect(p.redisOptions?.tls).toBeUndefined();
    } finally {
      for (const c of [worker, producer, single]) c.disconnect();
    }
  });
});
