/**
 * HTTP scenarios, each beside its baseline in the same run: submit (POST /v1/jobs vs a bare Hono route
 * calling queue.add vs Queue.add in a loop), batch (POST /v1/jobs/batch of 1,000 vs addBulk of 1,000) and
 * reads (cached GET and its 304 vs a bare Hono hello route).
 */
import { request } from 'node:http';
import { createRedis, jobCacheKey } from '@conveyor/queue';
import type { CannonResult, CannonSpec } from '../children/cannon';
import { benchConfig } from '../config';
import { deletePrefix, noopJob, type Stack } from '../lib/conveyor';
import { type PidSource, RssPeak } from '../lib/cpu';
import { type CpuShares, runMetered } from '../lib/metered';
import { freePort, httpOk, onCleanup, type Proc, startScript, waitUntil } from '../lib/procs';

export interface Measured<T> {
  result: T;
  cpu: CpuShares;
}

export interface Baselines {
  hello: Proc;
  helloUrl: string;
  queueServer: Proc;
  queueServerUrl: string;
  prefix: string;
}

export async function startBaselines(): Promise<Baselines> {
  const [helloPort, queuePort] = [await freePort(), await freePort()];
  const prefix = `{bench-raw-${process.pid}}`;
  onCleanup(() => deletePrefix(prefix));
  const hello = startScript('hello-server', 'src/children/hello-server.ts', [], { PORT: String(helloPort) });
  const queueServer = startScript('queue-server', 'src/children/queue-server.ts', [], {
    PORT: String(queuePort),
    REDIS_URL: benchConfig.redisUrl,
    QUEUE_PREFIX: `{bench-hono-${process.pid}}`,
  });
  onCleanup(() => deletePrefix(`{bench-hono-${process.pid}}`));
  const helloUrl = `http://127.0.0.1:${helloPort}`;
  const queueServerUrl = `http://127.0.0.1:${queuePort}`;
  await waitUntil('the hello server', httpOk(`${helloUrl}/hello`));
  await waitUntil('the queue server', httpOk(`${queueServerUrl}/ready`));
  return { hello, helloUrl, queueServer, queueServerUrl, prefix };
}

/** One autocannon run (its own process), metering the load generator and `groups`. */
async function cannon(spec: CannonSpec, groups: Record<string, PidSource>): Promise<Measured<CannonResult>> {
  const { result, cpu } = await runMetered<CannonResult>(
    'autocannon',
    'src/children/cannon.ts',
    { warmupS: benchConfig.warmupS, ...spec },
    groups,
  );
  const unexpected = Object.keys(result.statusCodes).filter((s) => Number(s) >= 400);
  if (unexpected.length > 0 || result.errors > 0) {
    throw new Error(
      `${spec.method ?? 'GET'} ${spec.url}: status ${JSON.stringify(result.statusCodes)}, errors ${result.errors}`,
    );
  }
  return { result, cpu: cpu.load ?? {} };
}

const json = { 'content-type': 'application/json' };

export async function submitScenario(stack: Stack, base: Baselines, shared: Record<string, PidSource>) {
  const { durationS, submitConnections: connections } = benchConfig;
  const body = JSON.stringify(noopJob);
  const bareHono = await cannon(
    { url: `${base.queueServerUrl}/jobs`, method: 'POST', headers: json, body, connections, durationS },
    { 'queue-server': base.queueServer.pid, ...shared },
  );
  const rss = new RssPeak(stack.api.pid);
  const api = await cannon(
    {
      url: `${stack.apiUrl}/v1/jobs`,
      method: 'POST',
      headers: { ...stack.authHeaders, ...json },
      body,
      idempotencyKey: true,
      connections,
      durationS,
    },
    { api: stack.api.pid, ...shared },
  );
  const apiPeakRssMb = rss.stop();
  const raw = await runMetered<{ jobsPerS: number; p50Ms: number; p99Ms: number }>(
    'raw-add',
    'src/children/raw-add.ts',
    { mode: 'add', redisUrl: benchConfig.redisUrl, prefix: base.prefix, concurrency: connections, durationS },
    shared,
  );
  return { api, apiPeakRssMb, bareHono, rawAdd: { result: raw.result, cpu: raw.cpu.add ?? {} } };
}

export async function batchScenario(stack: Stack, base: Baselines, shared: Record<string, PidSource>) {
  const { durationS, batchConnections: connections, batchSize } = benchConfig;
  const api = await cannon(
    {
      url: `${stack.apiUrl}/v1/jobs/batch`,
      method: 'POST',
      headers: { ...stack.authHeaders, ...json },
      body: JSON.stringify({ jobs: Array.from({ length: batchSize }, () => noopJob) }),
      connections,
      durationS,
    },
    { api: stack.api.pid, ...shared },
  );
  const raw = await runMetered<{ jobsPerS: number; p50Ms: number; p99Ms: number }>(
    'raw-add-bulk',
    'src/children/raw-add.ts',
    {
      mode: 'bulk',
      size: batchSize,
      redisUrl: benchConfig.redisUrl,
      prefix: base.prefix,
      concurrency: connections,
      durationS,
    },
    shared,
  );
  return {
    api: { ...api, jobsPerS: api.result.reqPerS * batchSize },
    rawAddBulk: { result: raw.result, cpu: raw.cpu.bulk ?? {} },
  };
}

/** Raw bytes on the wire (fetch would decompress) and the Content-Encoding of one GET. */
const wireSize = (url: string, headers: Record<string, string>, encoding: string) =>
  new Promise<{ bytes: number; encoding: string }>((resolve, reject) => {
    const req = request(url, { headers: { ...headers, 'accept-encoding': encoding } }, (res) => {
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

export async function readScenario(stack: Stack, base: Baselines, shared: Record<string, PidSource>) {
  const { durationS, readConnections: connections } = benchConfig;
  // A job to read, and 100 for the list (no worker runs during reads: they stay queued).
  const batch = await fetch(`${stack.apiUrl}/v1/jobs/batch`, {
    method: 'POST',
    headers: { ...stack.authHeaders, ...json },
    body: JSON.stringify({
      jobs: Array.from({ length: 100 }, (_, i) => ({
        type: 'noop',
        payload: { echo: { n: i, note: 'a typical small payload' } },
      })),
    }),
  });
  if (batch.status !== 202) throw new Error(`batch submit: ${batch.status} ${await batch.text()}`);
  const jobId = ((await batch.json()) as { data: { id: string }[] }).data[0]!.id;
  const jobUrl = `${stack.apiUrl}/v1/jobs/${jobId}`;
  const first = await fetch(jobUrl, { headers: stack.authHeaders });
  const etag = first.headers.get('etag')!;
  await first.arrayBuffer();
  // The first GET filled the cache; make sure the runs below measure hits.
  const redis = createRedis(benchConfig.redisUrl, 'worker', 'conveyor-bench');
  const cached = await redis.hexists(jobCacheKey(stack.prefix, jobId), 'b');
  redis.disconnect();
  if (!cached) throw new Error('the job is not in the read cache after a GET');

  const hello = await cannon(
    { url: `${base.helloUrl}/hello`, connections, durationS },
    { 'hello-server': base.hello.pid, ...shared },
  );
  const get = await cannon(
    { url: jobUrl, headers: stack.authHeaders, connections, durationS },
    { api: stack.api.pid, ...shared },
  );
  const notModified = await cannon(
    { url: jobUrl, headers: { ...stack.authHeaders, 'if-none-match': etag }, connections, durationS },
    { api: stack.api.pid, ...shared },
  );
  if (!notModified.result.statusCodes['304']) throw new Error('the If-None-Match GET did not answer 304');
  const listUrl = `${stack.apiUrl}/v1/jobs?limit=100`;
  const list100Bytes = {
    identity: (await wireSize(listUrl, stack.authHeaders, 'identity')).bytes,
    gzip: (await wireSize(listUrl, stack.authHeaders, 'gzip')).bytes,
    br: (await wireSize(listUrl, stack.authHeaders, 'br')).bytes,
  };
  return { hello, get, notModified, list100Bytes };
}
