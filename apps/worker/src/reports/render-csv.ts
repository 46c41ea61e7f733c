import { JOB_STATUSES } from '@conveyor/shared';
import type { GroupSummary, JobsSummary } from './summary';

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
const field = (value: string | number | null): string => {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

const line = (values: (string | number | null)[]) => `${values.map(field).join(',')}\r\n`;

const cells = (g: Omit<GroupSummary, 'key'>) => [
  g.jobs,
  ...JOB_STATUSES.map((s) => g.byStatus[s]),
  g.runTimeMs.count,
  g.runTimeMs.p50,
  g.runTimeMs.p95,
];

/**
 * One row per group, then a `total` row over the whole range (no day, type or status is named `total`).
 * Columns: the group key (named after groupBy), jobs, one count per status, runs measured, p50 and p95
 * run time in ms (empty when nothing ran). CRLF line ends, UTF-8.
 */
export function renderCsv(summary: JobsSummary): Buffer {
  const header = [
    summary.groupBy,
    'jobs',
    ...JOB_STATUSES,
    'run_time_count',
    'run_time_p50_ms',
    'run_time_p95_ms',
  ];
  const rows = summary.groups.map((g) => line([g.key, ...cells(g)]));
  return Buffer.from(line(header) + rows.join('') + line(['total', ...cells(summary.totals)]), 'utf8');
}
