import { quantile } from './raw-common';

export interface PeerSpec {
  connectionString: string;
  jobs: number;
  /** Submits in flight (the HTTP submit scenario's connections). */
  submitConcurrency: number;
  /** Jobs processed at once (Conveyor's default worker concurrency). */
  workerConcurrency: number;
}

export interface PeerResult {
  submit: { jobs: number; jobsPerS: number; p50Ms: number; p99Ms: number; cpuShare: number };
  drain: { jobs: number; jobsPerS: number; seconds: number; cpuShare: number };
}

const share = (cpu: NodeJS.CpuUsage, wallS: number) =>
  Math.round(((cpu.user + cpu.system) / 1e6 / wallS) * 100) / 100;

/** Calls `submit` `jobs` times from `concurrency` loops; jobs/s, per-call latency and this process's CPU. */
export async function timeSubmits(jobs: number, concurrency: number, submit: () => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < jobs) {
        const t = performance.now();
        await submit();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wallS = (performance.now() - started) / 1000;
  return {
    jobs,
    jobsPerS: Math.round(jobs / wallS),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    cpuShare: share(process.cpuUsage(cpuBefore), wallS),
  };
}

/**
 * Times a drain from the first handled job until `remaining()` (the peer's own count of unfinished jobs)
 * reaches 0, polled every 20 ms: the same window Conveyor's drain is timed over.
 */
export class DrainClock {
  private first = 0;
  private cpuBefore = process.cpuUsage();
  handled = 0;

  /** Call from the job handler. */
  tick() {
    if (this.handled++ === 0) {
      this.first = performance.now();
      this.cpuBefore = process.cpuUsage();
    }
  }

  async until(jobs: number, remaining: () => Promise<number>) {
    for (;;) {
      if (this.handled >= jobs && (await remaining()) === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const wallS = (performance.now() - this.first) / 1000;
    return {
      jobs,
      jobsPerS: Math.round((jobs - 1) / wallS),
      seconds: Math.round(wallS * 100) / 100,
      cpuShare: share(process.cpuUsage(this.cpuBefore), wallS),
    };
  }
}
