import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, REPO_ROOT } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { type AppProcess, startApp } from '../helpers/processes';

const ADMIN = 'e2e-cli-admin-token-0123456789';
const BIN = join(REPO_ROOT, 'packages/cli/bin/conveyor.mjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The `conveyor` CLI as a child process (stdout a pipe, so plain lines, no progress bar). */
function conveyor(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The real `api` and `worker` processes, driven only through the CLI. */
describe('conveyor CLI end to end', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  let api: AppProcess;
  let worker: AppProcess;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix };
    api = startApp('api', { ...env, PORT: String(port), HOST: '127.0.0.1', ADMIN_TOKEN: ADMIN });
    worker = startApp('worker', { ...env, WORKER_CONCURRENCY: '2' });
    // Generous: two tsx cold starts on a busy 2-core machine.
    await Promise.all([
      api.waitForLine(/"api listening"/, 55_000),
      worker.waitForLine(/"worker started"/, 55_000),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api?.kill(), worker?.kill()]);
    await deletePrefix(REDIS_URL, prefix);
    await db?.drop();
  });

  it('creates a tenant and a key, runs a job to the end, shows its timeline, and revokes the key', async () => {
    const admin = { CONVEYOR_URL: url, CONVEYOR_ADMIN_TOKEN: ADMIN, CONVEYOR_API_KEY: '' };
    const tenant = await conveyor(['tenants', 'create', '--name', 'cli-e2e', '--json'], admin);
    expect(tenant.code, tenant.stderr).toBe(0);
    const tenantId = (JSON.parse(tenant.stdout) as { id: string }).id;

    const created = await conveyor(
      ['keys', 'create', '--tenant', tenantId, '--scopes', 'jobs:read,jobs:write'],
      admin,
    );
    expect(created.code, created.stderr).toBe(0);
    const key = /^key: (\S+)$/m.exec(created.stdout)?.[1];
    const keyId = /^created API key (\S+) \(scopes: jobs:read, jobs:write\)$/m.exec(created.stdout)?.[1];
    expect(key).toMatch(/^cvr_/);
    expect(keyId).toBeDefined();
    const user = { CONVEYOR_URL: url, CONVEYOR_API_KEY: key!, CONVEYOR_ADMIN_TOKEN: '' };

    const submitted = await conveyor(['submit', 'noop', '--payload', '{"sleepMs":300}', '--json'], user);
    expect(submitted.code, submitted.stderr).toBe(0);
    const jobId = (JSON.parse(submitted.stdout) as { id: string }).id;

    const waited = await conveyor(['get', jobId, '--wait', '30'], user);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toMatch(new RegExp(`^${jobId} succeeded progress=\\d+ attempt 1/\\d+$`, 'm'));
    expect(waited.stdout).toMatch(/^status: {4}succeeded$/m);

    const events = await conveyor(['events', jobId], user);
    expect(events.code, events.stderr).toBe(0);
    const types = events.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/)[1]);
    expect(types[0]).toBe('queued');
    expect(types).toContain('running');
    expect(types.at(-1)).toBe('succeeded');

    // The stream of a finished job replays its timeline and ends after the terminal event.
    const followed = await conveyor(['events', jobId, '--follow'], user);
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout.trim().split('\n').at(-1)).toMatch(/ succeeded\b/);

    const queues = await conveyor(['queues'], user);
    expect(queues.code, queues.stderr).toBe(0);
    expect(queues.stdout.split('\n')[0]).toMatch(/^name\s+counts\.waiting\s+counts\.active/);
    expect(queues.stdout).toMatch(/^default\s+\d+/m);

    const revoked = await conveyor(['keys', 'revoke', keyId!], admin);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked API key ${keyId}`);

    // The API caches a verified key for AUTH_CACHE_TTL_MS (5 s by default): poll until the revocation shows.
    let refused: Run | undefined;
    for (let i = 0; i < 40; i++) {
      refused = await conveyor(['get', jobId], user);
      if (refused.code !== 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toMatch(/^error: .+ \(unauthenticated, HTTP 401\)$/m);
    expect(refused?.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('prints the problem detail and code of a refused submit and exits 1', async () => {
    const admin = { CONVEYOR_URL: url, CONVEYOR_ADMIN_TOKEN: ADMIN };
    const tenantId = (
      JSON.parse((await conveyor(['tenants', 'create', '--name', 'x', '--json'], admin)).stdout) as {
        id: string;
      }
    ).id;
    const key = (
      JSON.parse((await conveyor(['keys', 'create', '--tenant', tenantId, '--json'], admin)).stdout) as {
        key: string;
      }
    ).key;
    const res = await conveyor(['submit', 'no.such.kind'], { CONVEYOR_URL: url, CONVEYOR_API_KEY: key });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: .+ \(validation_failed, HTTP 422\)$/m);
    expect(res.stdout).toBe('');
  });

  it('exits 2 with the usage on a bad command line and 1 when the API cannot be reached', async () => {
    const bad = await conveyor(['frobnicate'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await conveyor(['get', 'x'], { CONVEYOR_URL: closed, CONVEYOR_API_KEY: 'cvr_x' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error: cannot reach the API \(ECONNREFUSED\)$/m);
  });
});
