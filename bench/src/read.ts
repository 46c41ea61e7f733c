/**
 * Read throughput: starts the built API on a scratch database and a bare Hono route in another process, then
 * drives each with autocannon (its own process, `--json`) for a few seconds: the bare route, a cached
 * `GET /v1/jobs/:id`, and the same GET answered `304` (If-None-Match). Prints req/s and the ratios to the
 * bare route, plus the bytes of `GET /v1/jobs?limit=100` uncompressed, gzip and brotli.
 * Writes bench/results/read.json.
 *   npm run build && npm run bench:read -- [--seconds 5] [--connections 20]
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { createApiKey, createTenant } from '@conveyor/db';
import { createTestDatabase } from '@conveyor/db/testing';
import { createRedis, jobCacheKey } from '@conveyor/queue';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '20' } },
});
const root = new URL('../../', import.meta.url).pathname;
const benchDir = new URL('../', import.meta.url).pathname;
const prefix = `{bench-${process.pid}}`;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
const [apiPort, helloPort] = [await freePort(), await freePort()];

const scratch = await createTestDatabase();
const tenant = await createTenant(scratch.db, 'bench');
const { key } = await createApiKey(scratch.db, { tenantId: tenant.id, scopes: ['jobs:read', 'jobs:write'] });

const procs: ChildProcess[] = [
  spawn(process.execPath, ['apps/api/dist/main.js'], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      DATABASE_URL: scratch.url,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      PORT: String(apiPort),
      // One key reads as fast as it can; the per-key rate limit would shape what is measured.
      RATE_LIMIT_POINTS: '0',
    },
  }),
  spawn(process.execPath, ['--import', 'tsx', 'src/hello-server.ts'], {
    cwd: benchDir,
    stdio: 'inherit',
    env: { ...process.env, PORT: String(helloPort) },
  }),
];
const api = `http://127.0.0.1:${apiPort}`;
const auth = { authorization: `Bearer ${key}` };

/** Raw bytes on the wire (fetch would decompress) and the Content-Encoding of one GET. */
const wireSize = (path: string, encoding: string) =>
  new Promise<{ bytes: number; encoding: string }>((resolve, reject) => {
    const req = request(`${api}${path}`, { headers: { ...auth, 'accept-encoding': encoding } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () =>
        resolve({ bytes, encoding: String(res.headers['content-encoding'] ?? 'identity') }),
      );
    });
    req.on('error', reject);
    req.end();
  });

interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  '2xx'?: number;
  statusCodeStats?: Record<string, { count: number }>;
}

/** One autocannon run in its own process, so the load generator does not share this process's CPU. */
async function cannon(url: string, headers: Record<string, string>) {
  const args = ['--json', '-d', values.seconds, '-c', values.connections];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  const { stdout } = await promisify(execFile)(`${root}node_modules/.bin/autocannon`, [...args, url], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const r = JSON.parse(stdout) as CannonResult;
  return {
    reqPerS: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([s, v]) => [s, v.count])),
    errors: r.errors + r.timeouts,
  };
}

try {
  for (let i = 0; i < 100; i++) {
    const ready = await Promise.all([
      fetch(`${api}/health/ready`).then(
        (r) => r.ok,
        () => false,
      ),
      fetch(`http://127.0.0.1:${helloPort}/hello`).then(
        (r) => r.ok,
        () => false,
      ),
    ]);
    if (ready.every(Boolean)) break;
    await sleep(100);
  }
  // 100 jobs for the list (no worker runs: they stay queued, which is all a read needs).
  const batch = await fetch(`${api}/v1/jobs/batch`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      jobs: Array.from({ length: 100 }, (_, i) => ({
        type: 'noop',
        payload: { echo: { n: i, note: 'a typical small payload' } },
      })),
    }),
  });
  if (batch.status !== 202) throw new Error(`batch submit: ${batch.status} ${await batch.text()}`);
  const jobId = ((await batch.json()) as { data: { id: string }[] }).data[0]!.id;
  const jobUrl = `${api}/v1/jobs/${jobId}`;
  const first = await fetch(jobUrl, { headers: auth });
  const etag = first.headers.get('etag')!;
  await first.arrayBuffer();

  // The first GET filled the cache; make sure the run below measures hits.
  const redis = createRedis(redisUrl, 'worker', 'conveyor-bench');
  const cached = await redis.hexists(jobCacheKey(prefix, jobId), 'b');
  redis.disconnect();
  if (!cached) throw new Error('the job is not in the read cache after a GET');

  const hello = await cannon(`http://127.0.0.1:${helloPort}/hello`, {});
  const get = await cannon(jobUrl, auth);
  const notModified = await cannon(jobUrl, { ...auth, 'if-none-match': etag });

  const listPath = '/v1/jobs?limit=100';
  const identity = await wireSize(listPath, 'identity');
  const gzip = await wireSize(listPath, 'gzip');
  const br = await wireSize(listPath, 'br');

  const ratio = (n: number) => Math.round((n / hello.reqPerS) * 100) / 100;
  const summary = {
    seconds: Number(values.seconds),
    connections: Number(values.connections),
    bareHono: hello,
    cachedGet: { ...get, ratioToBare: ratio(get.reqPerS) },
    notModified304: { ...notModified, ratioToBare: ratio(notModified.reqPerS) },
    list100Bytes: {
      identity: identity.bytes,
      gzip: gzip.bytes,
      gzipEncoding: gzip.encoding,
      br: br.bytes,
      brEncoding: br.encoding,
      gzipRatio: Math.round((gzip.bytes / identity.bytes) * 1000) / 1000,
      brRatio: Math.round((br.bytes / identity.bytes) * 1000) / 1000,
    },
  };
  console.table({
    'bare Hono /hello': { 'req/s': hello.reqPerS, 'p99 ms': hello.p99Ms, 'vs bare': 1 },
    'GET /v1/jobs/:id (cached)': { 'req/s': get.reqPerS, 'p99 ms': get.p99Ms, 'vs bare': ratio(get.reqPerS) },
    'GET /v1/jobs/:id → 304': {
      'req/s': notModified.reqPerS,
      'p99 ms': notModified.p99Ms,
      'vs bare': ratio(notModified.reqPerS),
    },
  });
  console.table({
    'GET /v1/jobs?limit=100': { identity: identity.bytes, gzip: gzip.bytes, br: br.bytes },
  });
  console.log(JSON.stringify(summary));
  writeFileSync(
    new URL('../results/read.json', import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), ...summary }, null, 2)}\n`,
  );
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await sleep(1_500);
  await scratch.drop();
}
