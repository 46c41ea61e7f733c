import { ConfigError, workerQueueNames } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config';

describe('worker configuration', () => {
  it('serves every queue with the default concurrency when nothing is set', () => {
    const config = loadWorkerConfig({});
    expect(config.WORKER_QUEUES).toEqual(workerQueueNames);
    expect(config.WORKER_QUEUES).toEqual(expect.arrayContaining(['default', 'emails', 'schedules']));
    expect(config.concurrency).toEqual(Object.fromEntries(workerQueueNames.map((q) => [q, 5])));
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/conveyor');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('takes a per-queue concurrency over the general one', () => {
    const config = loadWorkerConfig({
      WORKER_QUEUES: 'default,emails',
      WORKER_CONCURRENCY: '3',
      WORKER_CONCURRENCY_DEFAULT: '12',
    });
    expect(config.concurrency).toEqual({ default: 12, emails: 3 });
  });

  it('reads Redis Cluster seed nodes, and refuses what is not a node address', () => {
    expect(loadWorkerConfig({}).REDIS_CLUSTER_NODES).toEqual([]);
    expect(
      loadWorkerConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, rediss://:pw@10.0.0.2:7001' })
        .REDIS_CLUSTER_NODES,
    ).toEqual(['10.0.0.1:7000', 'rediss://:pw@10.0.0.2:7001']);
    expect(() => loadWorkerConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,http://x' })).toThrow(
      /REDIS_CLUSTER_NODES/,
    );
  });

  it('lists every problem by variable name', () => {
    let caught: unknown;
    try {
      loadWorkerConfig({
        WORKER_QUEUES: 'default,videos',
        WORKER_CONCURRENCY: '0',
        REDIS_URL: 'http://x',
        QUEUE_PREFIX: 'plain',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    for (const name of ['WORKER_QUEUES', 'WORKER_CONCURRENCY', 'REDIS_URL', 'QUEUE_PREFIX'])
      expect(problems).toContain(name);
    expect(problems).toContain('unknown queue "videos"');
  });

  it('defaults the SMTP settings to a local catcher and checks the sender and Message-ID domain', () => {
    expect(loadWorkerConfig({})).toMatchObject({
      SMTP_URL: 'smtp://127.0.0.1:1025',
      SMTP_FROM: 'noreply@conveyor.local',
      SMTP_MESSAGE_ID_DOMAIN: 'conveyor.local',
      SMTP_POOL_SIZE: 5,
      SMTP_CONNECTION_TIMEOUT_MS: 10_000,
      SMTP_GREETING_TIMEOUT_MS: 10_000,
      SMTP_SOCKET_TIMEOUT_MS: 30_000,
    });
    expect(loadWorkerConfig({ SMTP_FROM: 'Reports <reports@example.com>' }).SMTP_FROM).toBe(
      'Reports <reports@example.com>',
    );
    let caught: unknown;
    try {
      loadWorkerConfig({
        SMTP_URL: 'http://mail.example.com',
        SMTP_FROM: 'a@example.com, b@example.com',
        SMTP_MESSAGE_ID_DOMAIN: 'bad domain>',
        SMTP_POOL_SIZE: '0',
      });
    } catch (error) {
      caught = error;
    }
    const problems = (caught as ConfigError).problems.join('\n');
    for (const name of ['SMTP_URL', 'SMTP_FROM', 'SMTP_MESSAGE_ID_DOMAIN', 'SMTP_POOL_SIZE'])
      expect(problems).toContain(name);
  });

  it('defaults image.resize to no fetch exceptions and a 40 MP limit, and checks allowlist entries', () => {
    expect(loadWorkerConfig({})).toMatchObject({
      FETCH_ALLOWLIST: [],
      FETCH_MAX_BYTES: 20 * 1024 * 1024,
      FETCH_TIMEOUT_MS: 30_000,
      IMAGE_MAX_PIXELS: 40_000_000,
    });
    expect(loadWorkerConfig({ FETCH_ALLOWLIST: ' localhost, 10.1.2.0/24 ,::1' }).FETCH_ALLOWLIST).toEqual([
      'localhost',
      '10.1.2.0/24',
      '::1',
    ]);
    expect(() => loadWorkerConfig({ FETCH_ALLOWLIST: 'localhost,http://evil.example/,10.0.0.0/99' })).toThrow(
      /FETCH_ALLOWLIST.*http:\/\/evil\.example\/[\s\S]*FETCH_ALLOWLIST.*10\.0\.0\.0\/99/,
    );
    expect(() => loadWorkerConfig({ IMAGE_MAX_PIXELS: '300000000' })).toThrow(/IMAGE_MAX_PIXELS/);
  });
});
