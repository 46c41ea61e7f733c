import { workerQueueNames } from '@conveyor/shared';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FleetReader } from './fleet';

type FleetSnapshot = {
  stats: Awaited<ReturnType<FleetReader['queues']>>;
  workers: Awaited<ReturnType<FleetReader['workers']>>;
};

/** Request latency buckets, in s: 5 ms to 30 s (long-polls with ?wait= reach the top). */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ApiMetricsOptions {
  /** Add Node's process metrics (CPU, memory, event loop lag, GC), prefixed `conveyor_`; default true. */
  processMetrics?: boolean;
}

/**
 * The API's Prometheus registry. Request metrics are recorded as requests finish; queue gauges are read
 * from BullMQ when scraped (cached ~2 s in packages/queue), once `watchFleet` has been given a reader.
 */
export function createApiMetrics(options: ApiMetricsOptions = {}) {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'conveyor_' });
  const registers = [registry];
  let fleet: FleetReader | undefined;

  const requestDuration = new Histogram({
    name: 'conveyor_http_request_duration_seconds',
    help: 'HTTP request duration until the answer (or the start of a stream), by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  /**
   * One read of the fleet per scrape, shared by the gauges below: prom-client collects them concurrently,
   * so each gauge awaits the same read and sets only its own series.
   */
  let snapshot: { at: number; value: Promise<FleetSnapshot | undefined> } | undefined;
  const read = () => {
    if (snapshot && Date.now() - snapshot.at < 1_000) return snapshot.value;
    const reader = fleet;
    const value = reader
      ? Promise.all([reader.queues(workerQueueNames), reader.workers()]).then(
          ([stats, workers]) => ({ stats, workers }),
          () => undefined,
        )
      : Promise.resolve(undefined);
    snapshot = { at: Date.now(), value };
    return value;
  };

  new Gauge({
    name: 'conveyor_queue_jobs',
    help: 'Jobs in BullMQ by queue and state (waiting, active, delayed, failed), read on scrape',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      this.reset();
      for (const s of (await read())?.stats ?? [])
        for (const state of ['waiting', 'active', 'delayed', 'failed'] as const)
          this.set({ queue: s.queue, state }, s[state]);
    },
  });
  new Gauge({
    name: 'conveyor_queue_oldest_waiting_age_seconds',
    help: 'Seconds the oldest ready job of the queue has waited (0 when none wait), read on scrape',
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      this.reset();
      for (const s of (await read())?.stats ?? []) this.set({ queue: s.queue }, s.oldestWaitingAgeSeconds);
    },
  });
  new Gauge({
    name: 'conveyor_workers_online',
    help: 'Worker processes with a fresh heartbeat that serve the queue',
    labelNames: ['queue'] as const,
    registers,
    async collect() {
      this.reset();
      const snap = await read();
      for (const s of snap?.stats ?? [])
        this.set({ queue: s.queue }, snap!.workers.filter((w) => w.queues.includes(s.queue)).length);
    },
  });
  new Gauge({
    name: 'conveyor_queue_stats_up',
    help: '1 when the scrape could read the queues from Redis, else 0 (the queue gauges are then absent)',
    registers,
    async collect() {
      this.set((await read()) ? 1 : 0);
    },
  });

  return {
    registry,
    /** Records one finished request; `route` must be a route pattern, never a raw path. */
    observeRequest(method: string, route: string, status: number, seconds: number) {
      requestDuration.observe({ method, route, status: String(status) }, seconds);
    },
    /** Where the queue gauges come from; the app sets it from its producer. */
    watchFleet(reader: FleetReader) {
      fleet ??= reader;
    },
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
