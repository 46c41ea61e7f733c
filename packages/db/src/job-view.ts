import type { JobView } from '@conveyor/shared';
import type { JobRow } from './schema/index';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A job row as the API shows it: GET /v1/jobs/{id} answers it, and webhook bodies carry it as `data`. */
export function toJobView(row: JobRow): JobView {
  return {
    id: row.id,
    type: row.type,
    queue: row.queue,
    status: row.status,
    payload: row.payload,
    result: row.result ?? null,
    error: row.error ?? null,
    progress: row.progress,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    priority: row.priority,
    runAt: row.runAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    updatedAt: row.updatedAt.toISOString(),
    webhook: row.webhookUrl ? { url: row.webhookUrl } : null,
    scheduleId: row.scheduleId,
  };
}
