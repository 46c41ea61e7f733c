import type { ReportJobRow } from '@conveyor/db';
import { JOB_STATUSES, type JobStatus, type ReportGroupBy } from '@conveyor/shared';
import { RunTimeHistogram } from './run-time-histogram';

const DAY_MS = 86_400_000;
const STATUS_INDEX = new Map<string, number>(JOB_STATUSES.map((s, i) => [s, i]));

export interface RunTimeStats {
  /** Runs measured: succeeded and failed jobs (finished − started of the last attempt). */
  count: number;
  /** Nearest-rank percentiles in ms, within 0.5 % (see RunTimeHistogram); null when nothing ran. */
  p50: number | null;
  p95: number | null;
}

export interface GroupSummary {
  /** A UTC day (YYYY-MM-DD), a job type or a status, after `groupBy`. */
  key: string;
  jobs: number;
  byStatus: Record<JobStatus, number>;
  runTimeMs: RunTimeStats;
}

/** What every renderer draws from: a few hundred numbers at most, whatever the number of jobs. */
export interface JobsSummary {
  report: 'jobs-summary';
  from: string;
  to: string;
  groupBy: ReportGroupBy;
  generatedAt: string;
  totals: {
    jobs: number;
    /** Every status, zeros included. */
    byStatus: Record<JobStatus, number>;
    /** Types with at least one job. */
    byType: Record<string, number>;
    /** UTC days with at least one job. */
    byDay: Record<string, number>;
    runTimeMs: RunTimeStats;
  };
  /**
   * One entry per group in key order. `day`: every UTC day the range touches, empty ones included, so a
   * chart shows gaps; `status`: all six; `type`: the types seen.
   */
  groups: GroupSummary[];
}

/** Counts of one group: jobs per status and a run-time histogram (allocated at its first run). */
class Tally {
  jobs = 0;
  readonly statuses = new Uint32Array(JOB_STATUSES.length);
  runs: RunTimeHistogram | undefined;

  add(status: number, runMs: number | null) {
    this.jobs++;
    this.statuses[status]!++;
    if (runMs === null) return;
    this.runs ??= new RunTimeHistogram();
    this.runs.add(runMs);
  }

  byStatus(): Record<JobStatus, number> {
    return Object.fromEntries(JOB_STATUSES.map((s, i) => [s, this.statuses[i]!])) as Record<
      JobStatus,
      number
    >;
  }

  runTime(): RunTimeStats {
    return {
      count: this.runs?.count ?? 0,
      p50: this.runs?.percentile(0.5) ?? null,
      p95: this.runs?.percentile(0.95) ?? null,
    };
  }
}

const dayKey = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * Folds report rows into a JobsSummary. Memory is bounded by the number of groups (≤ 367 days, 6
 * statuses, or the catalog's types), each a few counters plus at most one 8.6 KB histogram, never by rows.
 */
export class JobsSummaryBuilder {
  private readonly total = new Tally();
  private readonly groups = new Map<string | number, Tally>();
  private readonly byType = new Map<string, number>();
  private readonly byDay = new Map<number, number>();

  constructor(private readonly range: { from: Date; to: Date; groupBy: ReportGroupBy }) {}

  add(rows: readonly ReportJobRow[]): void {
    const groupBy = this.range.groupBy;
    for (const row of rows) {
      const status = STATUS_INDEX.get(row.status);
      if (status === undefined) throw new Error(`unknown job status ${row.status}`);
      const day = Math.floor(row.createdMs / DAY_MS);
      this.total.add(status, row.runMs);
      this.byType.set(row.type, (this.byType.get(row.type) ?? 0) + 1);
      this.byDay.set(day, (this.byDay.get(day) ?? 0) + 1);
      const key = groupBy === 'day' ? day : groupBy === 'type' ? row.type : row.status;
      let group = this.groups.get(key);
      if (!group) {
        group = new Tally();
        this.groups.set(key, group);
      }
      group.add(status, row.runMs);
    }
  }

  get jobs(): number {
    return this.total.jobs;
  }

  finish(generatedAt: Date): JobsSummary {
    const { from, to, groupBy } = this.range;
    let keys: (string | number)[];
    if (groupBy === 'day') {
      const first = Math.floor(from.getTime() / DAY_MS);
      const last = Math.floor((to.getTime() - 1) / DAY_MS);
      keys = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    } else if (groupBy === 'status') keys = [...JOB_STATUSES];
    else keys = [...this.groups.keys()].sort();
    const groups = keys.map((key) => {
      const tally = this.groups.get(key) ?? new Tally();
      return {
        key: typeof key === 'number' ? dayKey(key) : key,
        jobs: tally.jobs,
        byStatus: tally.byStatus(),
        runTimeMs: tally.runTime(),
      };
    });
    return {
      report: 'jobs-summary',
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy,
      generatedAt: generatedAt.toISOString(),
      totals: {
        jobs: this.total.jobs,
        byStatus: this.total.byStatus(),
        byType: Object.fromEntries([...this.byType].sort(([a], [b]) => (a < b ? -1 : 1))),
        byDay: Object.fromEntries([...this.byDay].sort(([a], [b]) => a - b).map(([d, n]) => [dayKey(d), n])),
        runTimeMs: this.total.runTime(),
      },
      groups,
    };
  }
}
