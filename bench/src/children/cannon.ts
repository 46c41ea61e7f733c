/**
 * The load generator: one autocannon run in a process of its own (so it never shares the CPU time of what it
 * measures), configured by one JSON argument, printing one JSON line of results.
 * A fresh `Idempotency-Key` per request when `idempotencyKey` is set: the submit path then inserts every
 * time instead of replaying.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

export interface CannonSpec {
  url: string;
  connections: number;
  durationS: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  idempotencyKey?: boolean;
  /** Requests per second over all connections; unset = as fast as it goes. */
  rate?: number;
  /** Seconds of the same load before the measured run (JIT, pools, caches), not counted. */
  warmupS?: number;
}

export interface CannonResult {
  reqPerS: number;
  total2xx: number;
  durationS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statusCodes: Record<string, number>;
  errors: number;
}

const spec = JSON.parse(process.argv[2]!) as CannonSpec;
const run = (duration: number) =>
  autocannon({
    url: spec.url,
    connections: spec.connections,
    duration,
    timeout: 30,
    ...(spec.rate ? { overallRate: spec.rate } : {}),
    requests: [
      {
        method: spec.method ?? 'GET',
        headers: spec.headers ?? {},
        ...(spec.body === undefined ? {} : { body: spec.body }),
        ...(spec.idempotencyKey
          ? {
              setupRequest: (req) => ({
                ...req,
                headers: { ...req.headers, 'idempotency-key': randomUUID() },
              }),
            }
          : {}),
      },
    ],
  });
if (spec.warmupS) await run(spec.warmupS);
console.log('phase load');
const r = await run(spec.durationS);
const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([s, v]) => [s, v.count]));
// Answers below 400 per second of the actual run (not the mean of per-second buckets): an error answer
// is not throughput.
const ok = Object.entries(statusCodes)
  .filter(([s]) => Number(s) < 400)
  .reduce((sum, [, n]) => sum + n, 0);
const result: CannonResult = {
  reqPerS: Math.round(ok / r.duration),
  total2xx: r['2xx'],
  durationS: r.duration,
  p50Ms: r.latency.p50,
  p99Ms: r.latency.p99,
  maxMs: r.latency.max,
  statusCodes,
  errors: r.errors + r.timeouts,
};
console.log(JSON.stringify(result));
