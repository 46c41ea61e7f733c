import { z } from 'zod';
import { jobStatus } from '../contracts/job';
import { defineKind } from './kind';

/** Reports `report.generate` can build; each is a summary over the submitting tenant's own data. */
export const REPORT_NAMES = ['jobs-summary'] as const;
export const REPORT_FORMATS = ['csv', 'json', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
/** How a report's rows (and its PDF chart) are grouped. Days are UTC calendar days. */
export const REPORT_GROUP_BY = ['type', 'day', 'status'] as const;
export type ReportGroupBy = (typeof REPORT_GROUP_BY)[number];

/** Longest time range one report may cover, in days: a year, leap day included. */
export const MAX_REPORT_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

const rfc3339 = z.iso.datetime({ offset: true });

export const reportGeneratePayload = z
  .object({
    report: z.enum(REPORT_NAMES),
    /** Start of the range, inclusive: jobs created at or after it (RFC 3339). */
    from: rfc3339,
    /** End of the range, exclusive: jobs created before it (RFC 3339). */
    to: rfc3339,
    format: z.enum(REPORT_FORMATS),
    /** Default `day`. */
    groupBy: z.enum(REPORT_GROUP_BY).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const span = Date.parse(p.to) - Date.parse(p.from);
    if (!(span > 0)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > MAX_REPORT_RANGE_DAYS * DAY_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `the range may cover at most ${MAX_REPORT_RANGE_DAYS} days`,
      });
  });

const count = z.number().int().nonnegative();

/** Percentiles of run time (finished − started, for succeeded and failed jobs), in ms; null when none ran. */
export const runTimeSummary = z
  .object({
    /** How many jobs the percentiles are over. */
    count,
    p50: z.number().nonnegative().nullable(),
    p95: z.number().nonnegative().nullable(),
  })
  .strict();

export const reportGenerateResult = z
  .object({
    artifactId: z.string(),
    name: z.string(),
    contentType: z.string(),
    bytes: count,
    /** Totals over the whole range, whatever the grouping. */
    totals: z
      .object({
        jobs: count,
        /** Every status, zeros included (an enum-keyed record is exhaustive in zod 4). */
        byStatus: z.record(jobStatus, count),
        runTimeMs: runTimeSummary,
      })
      .strict(),
  })
  .strict();

/**
 * Summarises the tenant's jobs created in [from, to) into one artifact (CSV, JSON or PDF). Reads are
 * streamed, so the cost in memory does not grow with the number of jobs; a year of a busy tenant can take
 * minutes, hence the long timeout.
 */
export const reportGenerate = defineKind({
  queue: 'reports',
  payload: reportGeneratePayload,
  result: reportGenerateResult,
  maxAttempts: 3,
  backoff: { baseMs: 5_000, maxMs: 300_000 },
  timeoutMs: 900_000,
});
