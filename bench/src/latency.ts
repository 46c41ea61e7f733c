/**
 * Submit-to-succeeded latency of a `noop` job on an idle system: starts the built API and one worker
 * (production bundles), submits N jobs one at a time over HTTP, and reads each job's server-side
 * createdAt → finishedAt from the API. Prints median, p90, p99 and max; writes bench/results/latency.json.
 *   npm run build && npm run bench -- [--jobs 200]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createApiKey, createTenant } from '@conveyor/db';
import { createTestDatabase } from '@conveyor/db/testing';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '200' } } });
const total = Number(values.jobs);
const root = new URL('../../', import.meta.url).pathname;
const prefix = `{bench-${process.pid}}`;

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});

// A throwaway database of its own, dropped at the end.
const scratch = await createTestDatabase();
const { db } = scratch;
const dbUrl = scratch.url;
const tenant = await createTenant(db, 'bench');
const { key } = await createApiKey(db, { tenantId: tenant.id, scopes: ['jobs:read', 'jobs:write'] });

const env = {
  ...process.env,
  DATABASE_URL: dbUrl,
  QUEUE_PREFIX: prefix,
  LOG_LEVEL: 'warn',
  PORT: String(port),
  // One key submits and polls as fast as it can; the per-key rate limit would shape what is measured.
  RATE_LIMIT_POINTS: '0',
};
const procs: ChildProcess[] = ['api', 'worker'].map((app) =>
  spawn(process.execPath, [`apps/${app}/dist/main.js`], { cwd: root, env, stdio: 'inherit' }),
);
const base = `http://127.0.0.1:${port}`;
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

try {
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${base}/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await sleep(100);
  }
  await sleep(1_000);
  const ids: string[] = [];
  for (let i = 0; i < total; i++) {
    const res = await fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'noop', payload: {} }),
    });
    ids.push(((await res.json()) as { id: string }).id);
    await sleep(25); // one job at a time: this measures latency on an idle system, not throughput
  }
  const latencies: number[] = [];
  for (const id of ids) {
    for (;;) {
      const job = (await (await fetch(`${base}/v1/jobs/${id}`, { headers })).json()) as {
        status: string;
        createdAt: string;
        finishedAt: string | null;
      };
      if (job.status === 'succeeded') {
        latencies.push(new Date(job.finishedAt!).getTime() - new Date(job.createdAt).getTime());
        break;
      }
      await sleep(50);
    }
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)]!;
  const summary = {
    jobs: total,
    medianMs: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    maxMs: latencies.at(-1),
    minMs: latencies[0],
  };
  console.log(JSON.stringify(summary));
  writeFileSync(
    new URL('../results/latency.json', import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), ...summary }, null, 2)}\n`,
  );
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await sleep(1_500);
  await scratch.drop();
}
