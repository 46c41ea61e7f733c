/**
 * Baseline: BullMQ alone, no HTTP. `add` mode calls `Queue.add` from `concurrency` loops for `durationS`;
 * `bulk` mode calls `Queue.addBulk` of `size` jobs the same way. Prints jobs/s and per-call latency.
 *   tsx src/children/raw-add.ts '{"mode":"add","redisUrl":…,"prefix":…,"concurrency":50,"durationS":10}'
 */
import { Queue } from 'bullmq';
import { connectionOf, NOOP_JOB_OPTIONS, quantile } from './raw-common';

interface Spec {
  mode: 'add' | 'bulk';
  redisUrl: string;
  prefix: string;
  concurrency: number;
  durationS: number;
  size?: number;
}

const spec = JSON.parse(process.argv[2]!) as Spec;
const queue = new Queue('default', { connection: connectionOf(spec.redisUrl), prefix: spec.prefix });
queue.on('error', (error) => console.error('queue error', error));
await queue.waitUntilReady();

const size = spec.mode === 'bulk' ? (spec.size ?? 1_000) : 1;
const bulk = Array.from({ length: size }, () => ({ name: 'noop', data: {}, opts: NOOP_JOB_OPTIONS }));
console.log(`phase ${spec.mode}`);
const latencies: number[] = [];
let jobs = 0;
const started = performance.now();
const deadline = started + spec.durationS * 1000;
const cpuBefore = process.cpuUsage();

await Promise.all(
  Array.from({ length: spec.concurrency }, async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      if (spec.mode === 'bulk') await queue.addBulk(bulk);
      else await queue.add('noop', {}, NOOP_JOB_OPTIONS);
      latencies.push(performance.now() - t);
      jobs += size;
    }
  }),
);
const wallS = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await queue.close();
console.log(
  JSON.stringify({
    jobsPerS: Math.round(jobs / wallS),
    callsPerS: Math.round(latencies.length / wallS),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    cpuShare: Math.round(((cpu.user + cpu.system) / 1e6 / wallS) * 100) / 100,
  }),
);
