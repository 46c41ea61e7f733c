import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { startApp } from '../helpers/processes';

const DEAD_PG = 'postgres://postgres@127.0.0.1:1/conveyor';
const DEAD_REDIS = 'redis://127.0.0.1:1';

/** A new user's first minutes: what the start commands say when something is missing or wrong. */
describe('start-up messages', () => {
  it('db:migrate names Postgres and how to start it when it is unreachable, without a stack trace', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'packages/db/src/cli/migrate.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: DEAD_PG },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Cannot reach Postgres at 127.0.0.1:1/conveyor');
    expect(run.stderr).toMatch(/Start it/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('the API says which dependency is down, keeps serving liveness, and answers readiness with 503', async () => {
    const port = await freePort();
    const api = startApp('api', {
      DATABASE_URL: DEAD_PG,
      REDIS_URL: DEAD_REDIS,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    try {
      await api.waitForLine(/"api listening"/);
      expect(api.lines.some((l) => l.includes('Postgres is unreachable at 127.0.0.1:1'))).toBe(true);
      expect(api.lines.some((l) => l.includes('Redis is unreachable at 127.0.0.1:1'))).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('content-type')).toBe('application/problem+json');
      expect(ready.headers.get('retry-after')).toBe('5');
      api.signal('SIGTERM');
      expect(await api.exited).toBe(0);
    } finally {
      await api.kill();
    }
  });

  it('a bad configuration stops the worker with every problem listed by variable name', async () => {
    const worker = startApp('worker', {
      WORKER_QUEUES: 'default,nope',
      WORKER_CONCURRENCY: 'many',
      REDIS_URL: 'http://x',
    });
    expect(await worker.exited).toBe(1);
    const out = worker.lines.join('\n');
    expect(out).toContain('Invalid configuration');
    expect(out).toContain('WORKER_QUEUES: unknown queue "nope"');
    expect(out).toContain('WORKER_CONCURRENCY');
    expect(out).toContain('REDIS_URL');
    expect(out).not.toMatch(/\n\s+at /);
  });
});
