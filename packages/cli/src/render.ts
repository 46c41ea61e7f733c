import type { ConveyorError, Job } from '@conveyor/client';
import type { JobEventView } from '@conveyor/shared';

/** What the renderers read of a job (a full Job satisfies it). */
export type JobLike = Pick<Job, 'id' | 'type' | 'status' | 'progress' | 'attempts' | 'maxAttempts'> &
  Partial<Pick<Job, 'error' | 'result' | 'queue' | 'createdAt' | 'finishedAt'>>;

export const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/** `[##########----------]  50%`: `width` cells; progress clamped to 0–100 (null counts as 0). */
export function progressBar(progress: number | null | undefined, width = 30): string {
  const pct = Math.max(0, Math.min(100, Math.round(progress ?? 0)));
  const filled = Math.round((pct / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}%`;
}

/** One status line: what a TTY redraws in place and what a pipe gets once per change. */
export function statusLine(job: JobLike, tty: boolean): string {
  const attempt = `attempt ${job.attempts}/${job.maxAttempts}`;
  if (tty)
    return `${progressBar(job.status === 'succeeded' ? 100 : job.progress)}  ${job.status}  ${attempt}`;
  return `${job.id} ${job.status} progress=${job.progress ?? 0} ${attempt}`;
}

/** A job as `key: value` lines; the result as JSON. */
export function jobSummary(job: JobLike): string {
  const lines = [
    `id:        ${job.id}`,
    `type:      ${job.type}${job.queue ? ` (queue ${job.queue})` : ''}`,
    `status:    ${job.status}`,
    `progress:  ${job.progress ?? 0}%`,
    `attempts:  ${job.attempts}/${job.maxAttempts}`,
  ];
  if (job.createdAt) lines.push(`created:   ${job.createdAt}`);
  if (job.finishedAt) lines.push(`finished:  ${job.finishedAt}`);
  if (job.error) lines.push(`error:     ${job.error.code}: ${job.error.message}`);
  if (job.result !== undefined && job.result !== null) lines.push(`result:    ${JSON.stringify(job.result)}`);
  return lines.join('\n');
}

/** `2026-01-01T00:00:00.000Z  started  {"attempt":1}` */
export function eventLine(event: JobEventView): string {
  const data = event.data && Object.keys(event.data).length ? `  ${JSON.stringify(event.data)}` : '';
  return `${event.at}  ${event.type.padEnd(10)}${data}`.trimEnd();
}

// Arrays (a queue's worker list) show as their length: a table cell is no place for a list.
const cell = (v: unknown) =>
  Array.isArray(v)
    ? String(v.length)
    : v === null || v === undefined
      ? ''
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);

/**
 * Rows of objects as an aligned text table; columns are the union of the rows' keys in first-seen order,
 * nested objects flattened one level (`counts.waiting`).
 */
export function table(rows: readonly Record<string, unknown>[]): string {
  if (!rows.length) return '(none)';
  const flat = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = v2;
      } else out[k] = v;
    }
    return out;
  });
  const columns = [...new Set(flat.flatMap((r) => Object.keys(r)))];
  const widths = columns.map((c) => Math.max(c.length, ...flat.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), ...flat.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

/** An API error as the user sees it: the problem's detail and code, field problems, the request id. */
export function formatApiError(error: ConveyorError): string {
  const lines = [`error: ${error.detail} (${error.code}, HTTP ${error.status})`];
  for (const e of error.errors) lines.push(`  ${e.path || '(body)'}: ${e.message}`);
  if (error.retryAfterS !== undefined) lines.push(`  retry after ${error.retryAfterS} s`);
  if (error.requestId) lines.push(`  request id: ${error.requestId}`);
  return lines.join('\n');
}
