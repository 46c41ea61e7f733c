/**
 * Top self-time functions of a V8 CPU profile (`node --cpu-prof`, see BENCH_PROFILE=1 in docs/performance.md).
 *   npm run profile-summary --workspace @conveyor/bench -- [file.cpuprofile | directory] [--top 30]
 * With a directory (default bench/results/profiles), summarizes the newest profile in it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { PROFILE_DIR, ROOT } from './lib/procs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' } },
});
let file = positionals[0] ?? PROFILE_DIR;
if (statSync(file).isDirectory()) {
  const newest = readdirSync(file)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f: join(file, f), t: statSync(join(file, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t)[0];
  if (!newest) throw new Error(`no .cpuprofile in ${file}`);
  file = newest.f;
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

// Self time per node: each sample's time delta belongs to the node it hit (the next delta, as V8 records them).
const selfUs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) {
  const dt = deltas[i + 1] ?? 0;
  selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, dt));
}

const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(`file://${ROOT}`, '')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
const totalUs = profile.endTime - profile.startTime || 1;
const idle = byFunction.get('(idle)') ?? 0;
console.log(
  `${relative(process.cwd(), file)}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${((1 - idle / totalUs) * 100).toFixed(1)} % not idle`,
);
const rows = [...byFunction.entries()].sort(([, a], [, b]) => b - a).slice(0, Number(values.top));
console.table(
  Object.fromEntries(
    rows.map(([name, us]) => [
      name,
      { 'self ms': Math.round(us / 1000), '% of wall': Math.round((us / totalUs) * 1000) / 10 },
    ]),
  ),
);
