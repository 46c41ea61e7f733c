/**
 * `npm run bench:soak`: a long mixed run of the API and two workers (submits at a steady rate, cached reads,
 * jobs processed as they arrive), sampling each process's RSS every 5 s. Memory growth is the mean RSS of
 * the last tenth of the run against the mean of the tenth after warm-up (the first tenth, at least 30 s of a
 * short run); it must stay under
 * 5 % for every process. BENCH_SOAK_S sets the duration (default 600), BENCH_SOAK_RATE the req/s of each load.
 * Writes bench/results/soak-<timestamp>.json and prints a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CannonResult } from './children/cannon';
import { benchConfig } from './config';
import { activeJobs, startStack, startWorker, statusCounts, warmUp } from './lib/conveyor';
import { postgresBackendPids, redisPids, rssBytes } from './lib/cpu';
import { runMetered } from './lib/metered';
import { cleanup } from './lib/procs';

const GROWTH_LIMIT_PCT = 5;
const durationS = benchConfig.soakDurationS;
const log = (message: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}`);

try {
  const stack = await startStack('soak');
  const workers = [startWorker(stack, 'worker-1'), startWorker(stack, 'worker-2')];
  const procs = [stack.api, ...workers];
  const json = { ...stack.authHeaders, 'content-type': 'application/json' };
  const first = await fetch(`${stack.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ type: 'noop', payload: {} }),
  });
  const readUrl = `${stack.apiUrl}/v1/jobs/${((await first.json()) as { id: string }).id}`;
  await warmUp(stack);
  log(`${durationS} s: ${benchConfig.soakRate} submits/s and ${benchConfig.soakRate} reads/s, 2 workers`);

  const samples: { t: number; rss: Record<string, number> }[] = [];
  const started = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rss: Record<string, number> = {};
      for (const p of procs) rss[p.name] = Math.round(((rssBytes(p.pid) ?? 0) / 1024 / 1024) * 10) / 10;
      samples.push({ t: Math.round((performance.now() - started) / 1000), rss });
      await sleep(5_000);
    }
  })();
  const groups = {
    redis: redisPids(benchConfig.redisUrl),
    'postgres-bench': postgresBackendPids([stack.database.name]),
  };
  const load = (body: object | undefined, url: string) =>
    runMetered<CannonResult>(
      'autocannon',
      'src/children/cannon.ts',
      {
        url,
        connections: 10,
        durationS,
        rate: benchConfig.soakRate,
        ...(body ? { method: 'POST', body: JSON.stringify(body), idempotencyKey: true, headers: json } : {}),
        ...(body ? {} : { headers: stack.authHeaders }),
      },
      Object.fromEntries([...procs.map((p) => [p.name, p.pid] as const), ...Object.entries(groups)]),
    );
  // A mix of instant jobs and ones that hold a worker slot for a moment.
  const [submits, reads] = await Promise.all([
    load({ type: 'noop', payload: { sleepMs: 20, echo: { note: 'soak' } } }, `${stack.apiUrl}/v1/jobs`),
    load(undefined, readUrl),
  ]);
  sampling = false;
  await sampler;
  const backlog = await activeJobs(stack);
  const byStatus = await statusCounts(stack);

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const window = (fromS: number, toS: number) => samples.filter((s) => s.t >= fromS && s.t <= toS);
  // Warm-up (JIT, pools, caches) takes the first tenth, and at least 30 s of a short run.
  const baseFrom = Math.max(0.1 * durationS, Math.min(30, 0.5 * durationS));
  const baseTo = baseFrom + Math.max(0.1 * durationS, 5);
  const growth = Object.fromEntries(
    procs.map((p) => {
      const base = mean(window(baseFrom, baseTo).map((s) => s.rss[p.name]!));
      const end = mean(window(0.9 * durationS, durationS + 10).map((s) => s.rss[p.name]!));
      const pct = Math.round(((end - base) / base) * 1000) / 10;
      return [
        p.name,
        { baselineMb: Math.round(base), endMb: Math.round(end), growthPct: pct, met: pct < GROWTH_LIMIT_PCT },
      ];
    }),
  );
  const summary = {
    at: new Date().toISOString(),
    durationS,
    rate: benchConfig.soakRate,
    submits: submits.result,
    reads: reads.result,
    cpu: { submits: submits.cpu.load, reads: reads.cpu.load },
    jobs: { byStatus, activeAtEnd: backlog },
    rssGrowth: growth,
    samples,
  };
  console.table(growth);
  console.log(
    `submits ${submits.result.reqPerS}/s (p99 ${submits.result.p99Ms} ms), reads ${reads.result.reqPerS}/s (p99 ${reads.result.p99Ms} ms); jobs ${JSON.stringify(byStatus)}, active at end ${backlog}`,
  );
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const name = `soak-${summary.at.replace(/[:.]/g, '-')}.json`;
  writeFileSync(new URL(name, dir), `${JSON.stringify(summary, null, 2)}\n`);
  log(`wrote bench/results/${name}`);
  if (Object.values(growth).some((g) => !g.met)) process.exitCode = 1;
} finally {
  await cleanup();
}
