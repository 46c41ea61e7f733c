import { SCHEDULES_QUEUE } from '@conveyor/shared';
import type { JobSchedulerTemplateOptions, Queue } from 'bullmq';
import { withTimeout } from './connection';
import { BACKOFF_TYPE } from './job-options';
import { type Producer, RedisUnavailableError } from './producer';

/** What each firing of a schedule carries: which schedule, and which revision of it the scheduler was made for. */
export interface ScheduleFiringData {
  scheduleId: string;
  revision: number;
}

/** The parts of a schedule its BullMQ job scheduler is made from. */
export interface ScheduleMirrorRef {
  id: string;
  cron: string;
  timezone: string;
  revision: number;
}

/** The BullMQ job name of a firing (one name for all: the data says which schedule). */
export const SCHEDULE_FIRING_NAME = 'fire';

/**
 * A firing only needs to survive until a worker has turned it into a job row; kept a little while for the
 * dashboard, and retried a few times (1 s apart) when Postgres is briefly unreachable.
 */
const firingOptions: JobSchedulerTemplateOptions = {
  attempts: 5,
  backoff: { type: BACKOFF_TYPE },
  removeOnComplete: { age: 3600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 1_000 },
};

/**
 * The Redis mirror of the schedules in Postgres: one BullMQ job scheduler per active schedule (id = schedule
 * id) on the `schedules` queue, emitting `{scheduleId, revision}` at each cron tick. Postgres is the record;
 * whatever this mirror loses, the reconciler puts back. Every call fails fast while Redis is down.
 */
export interface ScheduleMirror {
  /** Creates or replaces the scheduler (and its next firing). */
  upsert(schedule: ScheduleMirrorRef): Promise<void>;
  remove(scheduleId: string): Promise<void>;
  /** Every scheduler in Redis: schedule id → the revision it was made for (0 when unreadable). */
  list(): Promise<Map<string, number>>;
}

export function createScheduleMirror(
  producer: Producer,
  options: { timeoutMs?: number } = {},
): ScheduleMirror {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const queue = () => producer.queue(SCHEDULES_QUEUE) as unknown as Queue<ScheduleFiringData>;
  const call = <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (producer.redis.status !== 'ready') return Promise.reject(new RedisUnavailableError());
    return withTimeout(fn(), timeoutMs, what);
  };
  return {
    upsert: (schedule) =>
      call('upsertJobScheduler', async () => {
        await queue().upsertJobScheduler(
          schedule.id,
          { pattern: schedule.cron, tz: schedule.timezone },
          {
            name: SCHEDULE_FIRING_NAME,
            data: { scheduleId: schedule.id, revision: schedule.revision },
            opts: firingOptions,
          },
        );
      }),
    remove: (scheduleId) =>
      call('removeJobScheduler', async () => void (await queue().removeJobScheduler(scheduleId))),
    list: () =>
      call('getJobSchedulers', async () => {
        const found = new Map<string, number>();
        const pageSize = 1_000;
        for (let start = 0; ; start += pageSize) {
          const page = await queue().getJobSchedulers(start, start + pageSize - 1, true);
          for (const s of page) found.set(s.key, Number(s.template?.data?.revision) || 0);
          if (page.length < pageSize) break;
        }
        return found;
      }),
  };
}
