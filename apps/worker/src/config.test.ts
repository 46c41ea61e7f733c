import { ConfigError } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config';

describe('worker configuration', () => {
  it('serves every queue with the default concurrency when nothing is set', () => {
    const config = loadWorkerConfig({});
    expect(config.WORKER_QUEUES).toEqual(['default']);
    expect(config.concurrency).toEqual({ default: 5 });
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/conveyor');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('takes a per-queue concurrency over the general one', () => {
    const config = loadWorkerConfig({ WORKER_CONCURRENCY: '3', WORKER_CONCURRENCY_DEFAULT: '12' });
    expect(config.concurrency).toEqual({ default: 12 });
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
});
