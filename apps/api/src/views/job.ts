import { type JobRow, toJobView } from '@conveyor/db';
import { invalidParameter, JOB_FIELDS, type JobView } from '@conveyor/shared';

/** The view itself lives with the rows (packages/db): the worker's webhook bodies carry it too. */
export { toJobView };

/**
 * The job as it was when first accepted: what an idempotent replay answers, so the replay's body equals
 * the original answer even if the job has run since. (A later retry's new runAt is the one exception.)
 */
export function acceptedView(row: JobRow): JobView {
  return {
    ...toJobView(row),
    status: 'queued',
    result: null,
    error: null,
    progress: 0,
    attempts: 0,
    startedAt: null,
    finishedAt: null,
    updatedAt: row.createdAt.toISOString(),
  };
}

export type FieldSet = ReadonlySet<keyof JobView> | null;

/** `fields=a,b`: a sparse fieldset of top-level job fields (`id` always included); null means all. */
export function parseFields(raw: string | undefined): FieldSet {
  if (raw === undefined) return null;
  const names = raw.split(',').map((f) => f.trim());
  const unknown = names.filter((n) => !(JOB_FIELDS as string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw invalidParameter(`fields must be a comma-separated list of: ${JOB_FIELDS.join(', ')}.`, [
      { path: 'fields', message: `unknown field(s): ${unknown.join(', ') || '(empty)'}` },
    ]);
  }
  return new Set(['id', ...names] as (keyof JobView)[]);
}

export function pickFields(view: JobView, fields: FieldSet): Partial<JobView> {
  if (!fields) return view;
  const out: Partial<JobView> = {};
  for (const f of JOB_FIELDS) if (fields.has(f)) (out as Record<string, unknown>)[f] = view[f];
  return out;
}
