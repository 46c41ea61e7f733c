import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey, createTenant } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { createProducer } from '@conveyor/queue';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import type { JobView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, REPO_ROOT } from '../helpers/env';
import { freePort } from '../helpers/ports';
import { type AppProcess, startApp } from '../helpers/processes';
import { readSse } from '../helpers/sse';
import { waitFor } from '../helpers/wait';

const NGINX = '/usr/sbin/nginx';
const TEMPLATE = join(REPO_ROOT, 'deploy/nginx/nginx.conf');

/**
 * The committed deploy/nginx/nginx.conf with only what differs on this machine replaced: the upstream's
 * `server api:3000` line becomes one line per local API process, the listen address a free local port,
 * and nginx's temp directories move into `dir` (the compiled-in ones need root). Each replacement must
 * match exactly once, so a change of the template that this test no longer understands fails loudly.
 */
function nginxConfFor(template: string, apiPorts: number[], port: number, dir: string): string {
  const replace = (text: string, pattern: RegExp, by: (m: RegExpMatchArray) => string) => {
    const matches = [...text.matchAll(new RegExp(pattern.source, `${pattern.flags}g`))];
    if (matches.length !== 1) throw new Error(`nginx.conf: ${pattern} matched ${matches.length} times`);
    return text.replace(pattern, (...args) => by(args as unknown as RegExpMatchArray));
  };
  let conf = replace(template, /^(\s*)server api:3000( [^;]*)?;$/m, (m) =>
    apiPorts.map((p) => `${m[1]}server 127.0.0.1:${p}${m[2] ?? ''};`).join('\n'),
  );
  conf = replace(conf, /^(\s*)listen 8080;$/m, (m) => `${m[1]}listen 127.0.0.1:${port};`);
  conf = replace(
    conf,
    /^(\s*)access_log \S+ conveyor;$/m,
    (m) => `${m[1]}access_log ${join(dir, 'access.log')} conveyor;`,
  );
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`)
    .join('\n');
  return replace(conf, /^http \{$/m, () => `http {\n${temps}`);
}

interface Nginx {
  child: ChildProcess;
  lines: string[];
  stop(): Promise<void>;
}

function startNginx(dir: string, confPath: string): Nginx {
  const child = spawn(
    NGINX,
    ['-p', `${dir}/`, '-c', confPath, '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr;`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGQUIT: graceful stop of the master and its workers (SIGKILL would leave the workers running).
      child.kill('SIGQUIT');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    },
  };
}

// Skipped only where Debian's nginx is not installed (CI installs it: `apt-get install nginx`).
describe.skipIf(!existsSync(NGINX))('nginx (deploy/nginx/nginx.conf) in front of two API processes', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'cvt-nginx-'));
  const storageDir = join(dir, 'storage');
  let apis: AppProcess[] = [];
  let worker: AppProcess | undefined;
  let nginx: Nginx | undefined;
  let base: string;
  let port: number;
  let apiPorts: number[] = [];
  let key: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const tenant = await createTenant(db.db, 'nginx');
    key = (await createApiKey(db.db, { tenantId: tenant.id, scopes: ['jobs:read', 'jobs:write'] })).key;
    const env = { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, STORAGE_DIR: storageDir };
    apiPorts = [await freePort(), await freePort()];
    apis = apiPorts.map((p, i) =>
      startApp(
        'api',
        // One proxy in front: the client address is the X-Forwarded-For entry nginx appends.
        { ...env, PORT: String(p), HOST: '127.0.0.1', TRUST_PROXY: '1', AUTH_CACHE_TTL_MS: '0' },
        `api-${'ab'[i]}`,
      ),
    );
    worker = startApp('worker', { ...env, WORKER_METRICS_PORT: '0', WORKER_CONCURRENCY: '4' });
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    mkdirSync(storageDir, { recursive: true });
    const confPath = join(dir, 'nginx.conf');
    writeFileSync(confPath, nginxConfFor(readFileSync(TEMPLATE, 'utf8'), apiPorts, port, dir));
    // Three processes start at once on a shared 2-core machine: generous start-up time.
    await Promise.all([
      ...apis.map((a) => a.waitForLine(/"api listening"/, 60_000)),
      worker.waitForLine(/"worker started"/, 60_000),
    ]);
    nginx = startNginx(dir, confPath);
    await waitFor('nginx to answer', async () => (await fetch(`${base}/health/live`)).ok, 20_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\n${nginx?.lines.join('\n')}`);
      },
    );
  });

  afterAll(async () => {
    await nginx?.stop();
    await Promise.allSettled([...apis.map((a) => a.kill()), worker?.kill()]);
    await deletePrefix(REDIS_URL, prefix).catch(() => undefined);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (path: string, init: RequestInit & { requestId?: string } = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${key}`);
    if (init.requestId) headers.set('x-request-id', init.requestId);
    if (typeof init.body === 'string') headers.set('content-type', 'application/json');
    return fetch(`${base}${path}`, { ...init, headers });
  };
  /** The API process whose access log has the request `requestId` (nginx passes the id through). */
  const servedBy = (requestId: string) =>
    waitFor(`an API process to log ${requestId}`, () =>
      apis.find((a) =>
        a.lines.some((l) => l.includes(`"requestId":"${requestId}"`) && l.includes('"request"')),
      ),
    );
  const submit = async (body: unknown, requestId: string) => {
    const res = await call('/v1/jobs', { method: 'POST', body: JSON.stringify(body), requestId });
    expect(res.status, await res.clone().text()).toBe(202);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    return { job: (await res.json()) as JobView, api: await servedBy(requestId) };
  };
  /**
   * nginx hands requests to the instances in turn; a loop that sends two requests a round would give every
   * round's second request to the same instance, so every other round sends one more.
   */
  const shiftRoundRobin = async (round: number) => {
    if (round % 2) expect((await fetch(`${base}/health/live`)).status).toBe(200);
  };
  /** `POST /v1/jobs` answers counted by one instance's own /metrics (read from it directly, not via nginx). */
  const submitsCounted = async (api: AppProcess) => {
    const text = await (await fetch(`http://127.0.0.1:${apiPorts[apis.indexOf(api)]}/metrics`)).text();
    const m =
      /conveyor_http_request_duration_seconds_count\{[^}]*method="POST",route="\/v1\/jobs",status="202"\} (\d+)/.exec(
        text,
      );
    return Number(m?.[1] ?? 0);
  };

  it('spreads submits over both instances and long-polls through either of them', async () => {
    const submitted = [];
    for (let i = 0; i < 8; i++)
      submitted.push(await submit({ type: 'noop', payload: { echo: i } }, `nginx-submit-${i}`));
    const served = new Set(submitted.map((s) => s.api.name));
    expect([...served].sort()).toEqual(['api-a', 'api-b']);
    for (const api of apis) {
      const own = submitted.filter((s) => s.api === api).length;
      expect(await submitsCounted(api), api.name).toBe(own);
    }

    // Long polls: each answer comes when the job finishes, whichever instance holds the poll and whichever
    // took the submit (job changes reach every instance through Redis).
    const pollers = new Set<string>();
    for (let i = 0; i < 10 && (i < 4 || pollers.size < 2); i++) {
      await shiftRoundRobin(i);
      const { job } = await submit(
        { type: 'noop', payload: { sleepMs: 1_500 }, options: { delay: 500 } },
        `nginx-slow-${i}`,
      );
      const started = Date.now();
      const res = await call(`/v1/jobs/${job.id}?wait=20`, { requestId: `nginx-wait-${i}` });
      expect(res.status).toBe(200);
      expect(((await res.json()) as JobView).status).toBe('succeeded');
      expect(Date.now() - started).toBeGreaterThan(1_000);
      pollers.add((await servedBy(`nginx-wait-${i}`)).name);
    }
    expect(pollers.size).toBe(2);

    // A poll that times out is answered after its full wait, not cut short by the proxy.
    const { job: later } = await submit(
      { type: 'noop', payload: {}, options: { delay: 60_000 } },
      'nginx-late',
    );
    const started = Date.now();
    const res = await call(`/v1/jobs/${later.id}?wait=3`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobView).status).toBe('queued');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
  });

  it('streams /v1/events opened on one instance with jobs submitted through the other, as they happen', async () => {
    const res = await call('/v1/events', {
      headers: { accept: 'text/event-stream' },
      requestId: 'nginx-sse-tenant',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('content-encoding')).toBeNull();
    const streamer = await servedBy('nginx-sse-tenant');

    // Submit until nginx hands one submit to the other instance.
    let other: JobView | undefined;
    for (let i = 0; i < 10 && !other; i++) {
      const s = await submit({ type: 'noop', payload: { echo: i } }, `nginx-sse-submit-${i}`);
      if (s.api !== streamer) other = s.job;
    }
    expect(other, 'no submit reached the other instance').toBeDefined();
    // The stream is still open when the events arrive: nginx passes each one on as it is written.
    const { events, ended } = await readSse(
      res,
      (seen) => seen.some((e) => e.data.includes(other!.id) && e.data.includes('"succeeded"')),
      20_000,
    );
    expect(ended).toBe(false);
    expect(events.filter((e) => e.data.includes(other!.id)).map((e) => JSON.parse(e.data).status)).toContain(
      'succeeded',
    );
  });

  it("streams a job's timeline from either instance, whichever took the submit", async () => {
    let crossed = false;
    for (let i = 0; i < 8 && (i < 2 || !crossed); i++) {
      await shiftRoundRobin(i);
      const { job, api: submitter } = await submit(
        { type: 'noop', payload: { sleepMs: 500 }, options: { delay: 1_000 } },
        `nginx-timeline-submit-${i}`,
      );
      const res = await call(`/v1/jobs/${job.id}/events`, {
        headers: { accept: 'text/event-stream' },
        requestId: `nginx-timeline-${i}`,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const streamer = await servedBy(`nginx-timeline-${i}`);
      crossed ||= submitter !== streamer;
      const { events, ended } = await readSse(res, () => false, 20_000);
      expect(ended, 'the stream ends after the terminal event').toBe(true);
      expect(events.at(-1)?.event).toBe('succeeded');
    }
    // At least one timeline was streamed by the instance that did not take the submit.
    expect(crossed).toBe(true);
  });

  it('keeps the API contract at the proxy: body limits as problem+json, uploads up to their own limit', async () => {
    const big = JSON.stringify({ type: 'noop', payload: { pad: 'x'.repeat(1_100_000) } });
    const tooBig = await call('/v1/jobs', { method: 'POST', body: big, requestId: 'nginx-413' });
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get('content-type')).toBe('application/problem+json');
    expect(tooBig.headers.get('x-request-id')).toBe('nginx-413');
    expect(await tooBig.json()).toMatchObject({
      status: 413,
      code: 'payload_too_large',
      requestId: 'nginx-413',
    });

    // 2 MiB is over the JSON limit but well under the upload limit: nginx lets it through to the API.
    const png = Buffer.concat([
      Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
      Buffer.alloc(2 * 1024 * 1024),
    ]);
    const upload = await call('/v1/uploads', {
      method: 'POST',
      body: png,
      headers: { 'content-type': 'image/png' },
    });
    expect(upload.status, await upload.clone().text()).toBe(201);
    expect(((await upload.json()) as { bytes: number }).bytes).toBe(png.length);

    const huge = Buffer.alloc(26 * 1024 * 1024);
    const refused = await call('/v1/uploads', {
      method: 'POST',
      body: huge,
      headers: { 'content-type': 'image/png' },
    });
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ code: 'payload_too_large' });
  });

  it('hands the API the address nginx saw, not one the client wrote into X-Forwarded-For', async () => {
    // From 127.0.0.2 (a loopback address of its own) with a forged X-Forwarded-For and a wrong key: the
    // failed-auth throttle must count the attempt against 127.0.0.2.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/jobs',
          localAddress: '127.0.0.2',
          headers: { authorization: 'Bearer cvk_wrong', 'x-forwarded-for': '6.6.6.6' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(401);
    const producer = createProducer({ redisUrl: REDIS_URL, prefix });
    try {
      await waitFor('a redis connection', () => producer.redis.status === 'ready', 10_000, 20);
      const keys = await producer.redis.keys(`${prefix}:ratelimit:auth*`);
      expect(keys.some((k) => k.endsWith('127.0.0.2'))).toBe(true);
      expect(keys.filter((k) => k.includes('6.6.6.6') || k.endsWith('127.0.0.1'))).toEqual([]);
    } finally {
      await producer.close();
    }
    // nginx's own log names the client and which instance answered.
    const accessLog = readFileSync(join(dir, 'access.log'), 'utf8').split('\n');
    const line = accessLog.find((l) => l.startsWith('127.0.0.2 '));
    expect(line).toMatch(/"GET \/v1\/jobs HTTP\/1.1" 401 .* upstream=127\.0\.0\.1:\d+ upstream_status=401 /);
  });

  it('answers 503 problem+json when no instance is left', async () => {
    await Promise.all(apis.map((a) => a.kill()));
    const res = await call('/v1/jobs', { requestId: 'nginx-none-left' });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ code: 'unavailable', requestId: 'nginx-none-left' });
  });
});
