/**
 * `npm run bench`: every scenario in one run, each beside its baseline measured in the same run, on scratch
 * databases and Redis prefixes of its own (removed at the end). Writes bench/results/<timestamp>.json,
 * latest.md and latest.svg. Knobs: see src/config.ts (BENCH_QUICK=1 for a smoke run, BENCH_ONLY=read,…).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { benchConfig, runs } from './config';
import { deletePrefix, type Stack, startStack } from './lib/conveyor';
import { type PidSource, postgresAllPids, postgresBackendPids, redisPids } from './lib/cpu';
import { cleanup, onCleanup } from './lib/procs';
import { markdown, met, type Row, svg } from './lib/report';
import { batchScenario, readScenario, startBaselines, submitScenario } from './scenarios/http';
import {
  type DrainResult,
  drainScenario,
  latencyScenario,
  peerScenario,
  rawWorkerScenario,
} from './scenarios/processing';

const resultsDir = new URL('../results/', import.meta.url);
const at = new Date();
const sharedOf = (stack: Stack): Record<string, PidSource> => ({
  redis: redisPids(benchConfig.redisUrl),
  'postgres-bench': postgresBackendPids([stack.database.name]),
  'postgres-all': postgresAllPids,
});
const log = (message: string) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

// biome-ignore lint/suspicious/noExplicitAny: the results document is assembled scenario by scenario
const results: Record<string, any> = {
  at: at.toISOString(),
  machine: { cpus: availableParallelism(), node: process.version },
  config: { ...benchConfig, only: [...benchConfig.only] },
};

/** BENCH_RENDER=<results json>: only render that run's report again (after a report change). */
const rendering = benchConfig.render !== undefined;
if (rendering) Object.assign(results, JSON.parse(readFileSync(benchConfig.render!, 'utf8')));

try {
  if (!rendering && (runs('submit') || runs('batch') || runs('read'))) {
    log('starting the API and the baselines (HTTP phase)');
    const stack = await startStack('http');
    const base = await startBaselines();
    const shared = sharedOf(stack);
    if (runs('submit')) {
      log('submit: bare Hono + queue.add, POST /v1/jobs, Queue.add loop');
      results.submit = await submitScenario(stack, base, shared);
    }
    if (runs('batch')) {
      log('batch: POST /v1/jobs/batch of 1,000, addBulk of 1,000');
      results.batch = await batchScenario(stack, base, shared);
    }
    if (runs('read')) {
      log('read: bare hello, cached GET, 304');
      results.read = await readScenario(stack, base, shared);
    }
    await Promise.all([stack.api.stop(), base.hello.stop(), base.queueServer.stop()]);
  }
  if (!rendering && (runs('processing') || runs('peers') || runs('scaling'))) {
    log('starting the API for the processing phase');
    const stack = await startStack('work');
    const shared = sharedOf(stack);
    const rawPrefix = `{bench-rawworker-${process.pid}}`;
    onCleanup(() => deletePrefix(rawPrefix));
    if (runs('processing')) {
      log(`processing: latency of ${benchConfig.latencyJobs} jobs one at a time`);
      const latency = await latencyScenario(stack);
      log(`processing: drain of ${benchConfig.drainJobs} jobs by one worker`);
      const drain = await drainScenario(stack, 1, benchConfig.drainJobs, shared);
      log('processing: bare BullMQ Worker drain and latency');
      const raw = await rawWorkerScenario(rawPrefix, shared);
      results.processing = { latency, drain, raw };
    }
    if (runs('peers')) {
      log(`peers: pg-boss submitting and draining ${benchConfig.drainJobs} jobs`);
      const pgboss = await peerScenario('pgboss', shared);
      log(`peers: graphile-worker submitting and draining ${benchConfig.drainJobs} jobs`);
      const graphile = await peerScenario('graphile', shared);
      results.peers = { pgboss, graphile };
    }
    if (runs('scaling')) {
      const scaling: DrainResult[] = [];
      for (const workers of benchConfig.scalingWorkers) {
        log(`scaling: drain of ${benchConfig.scalingJobs} jobs by ${workers} worker process(es)`);
        scaling.push(await drainScenario(stack, workers, benchConfig.scalingJobs, shared));
      }
      results.scaling = scaling;
    }
    await stack.api.stop();
  }

  const rows = targetRows();
  results.rows = rows.map((r) => ({ ...r, met: met(r) }));
  mkdirSync(resultsDir, { recursive: true });
  const stamp = String(results.at).replace(/[:.]/g, '-');
  if (!rendering)
    writeFileSync(new URL(`${stamp}.json`, resultsDir), `${JSON.stringify(results, null, 2)}\n`);
  // A partial run (BENCH_ONLY) keeps the full run's latest.md and latest.svg.
  const only: string[] = results.config.only;
  const latest = only.length === 0 ? 'latest' : `latest-${only.join('-')}`;
  const title = `Conveyor bench ${results.at}${results.config.quick ? ' (BENCH_QUICK)' : ''}`;
  writeFileSync(new URL(`${latest}.md`, resultsDir), `# ${title}\n\n${markdown(rows, details())}`);
  writeFileSync(new URL(`${latest}.svg`, resultsDir), svg(rows, title));
  console.log(markdown(rows, details()));
  log(`wrote bench/results/${rendering ? '' : `${stamp}.json, `}${latest}.md, ${latest}.svg`);
} finally {
  await cleanup();
}

function targetRows(): Row[] {
  const rows: Row[] = [];
  const perS = (n: number, what = 'req/s') => `${n.toLocaleString('en')} ${what}`;
  const { submit, batch, read, processing, peers } = results;
  if (submit) {
    const ours = submit.api.result.reqPerS;
    const bare = submit.bareHono.result.reqPerS;
    rows.push(
      {
        scenario: 'submit POST /v1/jobs vs bare Hono + queue.add',
        ours: perS(ours),
        baseline: perS(bare),
        ratio: ours / bare,
        target: 0.5,
        kind: 'at-least',
        unit: '×',
      },
      {
        scenario: `submit p99 at ${results.config.submitConnections} connections`,
        ours: `${submit.api.result.p99Ms} ms`,
        baseline: `${submit.bareHono.result.p99Ms} ms`,
        ratio: submit.api.result.p99Ms,
        target: 25,
        kind: 'at-most',
        unit: ' ms',
      },
      {
        scenario: 'API peak RSS under submit load',
        ours: `${submit.apiPeakRssMb} MB`,
        baseline: '—',
        ratio: submit.apiPeakRssMb,
        target: 200,
        kind: 'at-most',
        unit: ' MB',
      },
    );
  }
  if (batch) {
    const ours = batch.api.jobsPerS;
    const raw = batch.rawAddBulk.result.jobsPerS;
    rows.push({
      scenario: 'batch of 1,000 vs raw addBulk',
      ours: perS(ours, 'jobs/s'),
      baseline: perS(raw, 'jobs/s'),
      ratio: ours / raw,
      target: 0.8,
      kind: 'at-least',
      unit: '×',
    });
  }
  if (read) {
    const bare = read.hello.result.reqPerS;
    rows.push(
      {
        scenario: 'cached GET /v1/jobs/{id} vs bare hello',
        ours: perS(read.get.result.reqPerS),
        baseline: perS(bare),
        ratio: read.get.result.reqPerS / bare,
        target: 0.5,
        kind: 'at-least',
        unit: '×',
      },
      {
        scenario: 'GET → 304 vs bare hello',
        ours: perS(read.notModified.result.reqPerS),
        baseline: perS(bare),
        ratio: read.notModified.result.reqPerS / bare,
        target: 0.6,
        kind: 'at-least',
        unit: '×',
      },
    );
  }
  if (processing) {
    const ours = processing.drain.jobsPerS;
    const raw = processing.raw.drain.result.jobsPerS;
    rows.push({
      scenario: 'processing drain vs raw BullMQ Worker',
      ours: perS(ours, 'jobs/s'),
      baseline: perS(raw, 'jobs/s'),
      ratio: ours / raw,
      target: 0.5,
      kind: 'at-least',
      unit: '×',
    });
  }
  if (peers) {
    for (const [name, label] of [
      ['pgboss', 'pg-boss'],
      ['graphile', 'graphile-worker'],
    ] as const) {
      const peer = peers[name].result;
      if (submit) {
        const ours = submit.api.result.reqPerS;
        rows.push({
          scenario: `submit vs ${label}`,
          ours: perS(ours, 'jobs/s'),
          baseline: perS(peer.submit.jobsPerS, 'jobs/s'),
          ratio: ours / peer.submit.jobsPerS,
          target: 1,
          kind: 'at-least',
          unit: '×',
        });
      }
      if (processing) {
        const ours = processing.drain.jobsPerS;
        rows.push({
          scenario: `processing drain vs ${label}`,
          ours: perS(ours, 'jobs/s'),
          baseline: perS(peer.drain.jobsPerS, 'jobs/s'),
          ratio: ours / peer.drain.jobsPerS,
          target: 1,
          kind: 'at-least',
          unit: '×',
        });
      }
    }
  }
  return rows;
}

/** The figures without a target: latencies, the Queue.add loop, drain scaling and every CPU share. */
function details(): string[] {
  const out: string[] = [];
  const cpu = (shares: Record<string, number>) =>
    Object.entries(shares)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const { submit, batch, read, processing, peers, scaling } = results;
  out.push(
    `Machine: ${results.machine.cpus} cores, Node ${results.machine.node}; ${results.config.durationS} s per load run. CPU share: 1.0 = one core busy for the whole window; postgres-all includes every client of the server; machine = every process on the machine.`,
    '',
  );
  const cpuRows: string[] = [];
  if (submit) {
    out.push(
      `Submit: Queue.add loop (no HTTP, ${results.config.submitConnections} in flight) ${submit.rawAdd.result.jobsPerS.toLocaleString('en')} jobs/s, p99 ${submit.rawAdd.result.p99Ms} ms; API ${submit.api.result.reqPerS.toLocaleString('en')} req/s (${(submit.api.result.reqPerS / submit.rawAdd.result.jobsPerS).toFixed(2)}× of it).`,
    );
    cpuRows.push(
      `| submit: bare Hono + queue.add | ${cpu(submit.bareHono.cpu)} |`,
      `| submit: POST /v1/jobs | ${cpu(submit.api.cpu)} |`,
      `| submit: Queue.add loop | ${cpu(submit.rawAdd.cpu)} |`,
    );
  }
  if (batch)
    cpuRows.push(
      `| batch: POST /v1/jobs/batch | ${cpu(batch.api.cpu)} |`,
      `| batch: addBulk | ${cpu(batch.rawAddBulk.cpu)} |`,
    );
  if (read) {
    out.push(
      `Reads: GET /v1/jobs?limit=100 is ${read.list100Bytes.identity} B, ${read.list100Bytes.gzip} B gzip, ${read.list100Bytes.br} B brotli; p99 cached GET ${read.get.result.p99Ms} ms, 304 ${read.notModified.result.p99Ms} ms, hello ${read.hello.result.p99Ms} ms.`,
    );
    cpuRows.push(
      `| read: bare hello | ${cpu(read.hello.cpu)} |`,
      `| read: cached GET | ${cpu(read.get.cpu)} |`,
      `| read: 304 | ${cpu(read.notModified.cpu)} |`,
    );
  }
  if (processing) {
    const { latency, raw, drain } = processing;
    out.push(
      `Submit → succeeded, one job at a time (${latency.jobs} jobs): p50 ${latency.p50Ms} ms, p90 ${latency.p90Ms} ms, p99 ${latency.p99Ms} ms; bare BullMQ p50 ${raw.latency.p50Ms} ms, p99 ${raw.latency.p99Ms} ms.`,
    );
    cpuRows.push(
      `| processing: drain, 1 worker (${drain.jobs} jobs) | ${cpu(drain.cpu)} |`,
      `| processing: raw BullMQ drain | ${cpu(raw.drain.cpu)} |`,
    );
  }
  if (peers) {
    for (const name of ['pgboss', 'graphile'] as const) {
      const p = peers[name];
      out.push(
        `${name}: submit ${p.result.submit.jobsPerS.toLocaleString('en')} jobs/s (p99 ${p.result.submit.p99Ms} ms), drain ${p.result.drain.jobsPerS.toLocaleString('en')} jobs/s.`,
      );
      cpuRows.push(
        `| ${name}: submit | ${cpu(p.cpu.submit ?? {})} |`,
        `| ${name}: drain | ${cpu(p.cpu.drain ?? {})} |`,
      );
    }
  }
  if (scaling) {
    out.push(
      '',
      '| worker processes | jobs | seconds | jobs/s | busiest | CPU shares |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const s of scaling as DrainResult[])
      out.push(
        `| ${s.workers} | ${s.jobs} | ${s.seconds} | ${s.jobsPerS.toLocaleString('en')} | ${s.busiest} | ${cpu(s.cpu)} |`,
      );
  }
  if (cpuRows.length > 0) out.push('', '| scenario | CPU share per process |', '| --- | --- |', ...cpuRows);
  const perOp = perOperation();
  if (perOp.length > 0) {
    out.push(
      '',
      'CPU time per operation (µs; the measured process, and its Postgres backends and Redis): steadier than throughput on a shared machine.',
      '',
      '| operation | process | postgres-bench | redis |',
      '| --- | --- | --- | --- |',
      ...perOp,
    );
  }
  return out;
}

/** CPU µs per request or job: a share (cores) divided by a rate (per s). */
function perOperation(): string[] {
  const us = (share: number | undefined, perS: number) =>
    share === undefined || perS <= 0 ? 'n/a' : String(Math.round((share / perS) * 1e6));
  const row = (name: string, cpu: Record<string, number>, proc: string, perS: number) =>
    `| ${name} | ${proc} ${us(cpu[proc], perS)} | ${us(cpu['postgres-bench'], perS)} | ${us(cpu.redis, perS)} |`;
  const { submit, batch, read, processing } = results;
  const rows: string[] = [];
  if (submit) {
    rows.push(
      row('POST /v1/jobs', submit.api.cpu, 'api', submit.api.result.reqPerS),
      row('bare Hono + queue.add', submit.bareHono.cpu, 'queue-server', submit.bareHono.result.reqPerS),
      row('Queue.add', submit.rawAdd.cpu, 'raw-add', submit.rawAdd.result.jobsPerS),
    );
  }
  if (batch) {
    rows.push(
      row('batch, per job', batch.api.cpu, 'api', batch.api.jobsPerS),
      row('addBulk, per job', batch.rawAddBulk.cpu, 'raw-add-bulk', batch.rawAddBulk.result.jobsPerS),
    );
  }
  if (read) {
    rows.push(
      row('cached GET', read.get.cpu, 'api', read.get.result.reqPerS),
      row('GET → 304', read.notModified.cpu, 'api', read.notModified.result.reqPerS),
      row('bare hello', read.hello.cpu, 'hello-server', read.hello.result.reqPerS),
    );
  }
  if (processing) {
    rows.push(
      row('noop job, one worker', processing.drain.cpu, 'worker-1x-1', processing.drain.jobsPerS),
      row(
        'noop job, bare BullMQ Worker',
        processing.raw.drain.cpu,
        'raw-worker',
        processing.raw.drain.result.jobsPerS,
      ),
    );
  }
  return rows;
}
