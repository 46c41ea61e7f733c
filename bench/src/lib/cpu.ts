/**
 * CPU share and memory of processes, read from /proc (Linux): share = (utime + stime) delta / wall time, so
 * 1.0 is one core busy for the whole window (this machine has `os.availableParallelism()` of them).
 * Postgres and Redis are found by process name and only read, never signalled.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a process in clock ticks, or undefined once it is gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS), or undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** PIDs whose command name is `comm` and whose command line (NULs as spaces) passes `filter`. */
export function pidsByName(comm: string, filter: (cmdline: string) => boolean = () => true): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => read(`/proc/${d}/comm`).trim() === comm)
    .filter((d) => filter(read(`/proc/${d}/cmdline`).replaceAll('\0', ' ')))
    .map(Number);
}

/** The Redis server the bench talks to (redis-server rewrites its title to `redis-server host:port`). */
export const redisPids = (redisUrl: string) => {
  const port = new URL(redisUrl).port || '6379';
  return () => pidsByName('redis-server', (cmd) => cmd.includes(`:${port}`));
};
/** Every Postgres process: backends of other clients and the background writers too. */
export const postgresAllPids = () => pidsByName('postgres');
/** Backends serving the bench's databases (their title carries the database name). */
export const postgresBackendPids = (databases: string[]) => () =>
  pidsByName('postgres', (cmd) => databases.some((db) => cmd.includes(` ${db} `)));

export type PidSource = number | (() => number[]);

/** Busy clock ticks of the whole machine (all cores; idle and iowait excluded), from /proc/stat. */
function machineBusyTicks(): number {
  const fields = read('/proc/stat').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return user + nice + system + irq + softirq + steal;
}

/**
 * Measures groups of processes over a window. Sources that are functions are re-read on every sample, so
 * Postgres backends that connect during the window count (from zero), and ones that leave keep their last
 * sample. Samples every `everyMs`.
 */
export class CpuMeter {
  private readonly seen = new Map<string, Map<number, { first: number; last: number }>>();
  private readonly startedAt = performance.now();
  private readonly machineStart = machineBusyTicks();
  private readonly timer: NodeJS.Timeout;
  private first = true;

  constructor(
    private readonly groups: Record<string, PidSource>,
    everyMs = 250,
  ) {
    this.sample();
    this.first = false;
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample() {
    for (const [group, source] of Object.entries(this.groups)) {
      const pids = typeof source === 'number' ? [source] : source();
      const byPid = this.seen.get(group) ?? new Map<number, { first: number; last: number }>();
      this.seen.set(group, byPid);
      for (const pid of pids) {
        const ticks = cpuTicks(pid);
        if (ticks === undefined) continue;
        const entry = byPid.get(pid);
        if (entry) entry.last = ticks;
        else byPid.set(pid, { first: this.first ? ticks : 0, last: ticks });
      }
    }
  }

  /**
   * CPU share per group (1.0 = one core), rounded to 0.01, over the window so far, plus `machine`: every
   * process on the machine, ours or not (what was left for us). Stops sampling.
   */
  stop(): Record<string, number> {
    this.sample();
    clearInterval(this.timer);
    const wallS = (performance.now() - this.startedAt) / 1000;
    const shares: Record<string, number> = {};
    for (const [group, byPid] of this.seen) {
      let ticks = 0;
      for (const { first, last } of byPid.values()) ticks += last - first;
      shares[group] = Math.round((ticks / TICKS_PER_S / wallS) * 100) / 100;
    }
    shares.machine = Math.round(((machineBusyTicks() - this.machineStart) / TICKS_PER_S / wallS) * 100) / 100;
    return shares;
  }
}

/** Peak VmRSS of one process, sampled every `everyMs` until stop(). */
export class RssPeak {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly pid: number,
    everyMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  private sample() {
    this.peak = Math.max(this.peak, rssBytes(this.pid) ?? 0);
  }
  /** Peak RSS in MB. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return Math.round((this.peak / 1024 / 1024) * 10) / 10;
  }
}
