import type { ScheduleRow } from '@conveyor/db';
import { nextCronRun, type ScheduleView } from '@conveyor/shared';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toScheduleView(row: ScheduleRow, now = new Date()): ScheduleView {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    template: row.template,
    overlap: row.overlap,
    paused: row.paused,
    nextRunAt: row.paused ? null : iso(nextCronRun(row.cron, row.timezone, now)),
    lastFiredAt: iso(row.lastFiredAt),
    lastJobId: row.lastJobId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
