import type { JobsSummary } from './summary';

/** The summary as it is, pretty-printed: the shape is JobsSummary (docs/jobs.md). */
export const renderJson = (summary: JobsSummary): Buffer =>
  Buffer.from(`${JSON.stringify(summary, null, 2)}\n`, 'utf8');
