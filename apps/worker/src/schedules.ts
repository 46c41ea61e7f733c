import { buildJobRow, type Db, type FiringOutcome, fireSchedule } from '@conveyor/db';
import { handOffNewJobs, type Producer, type QueueJob, type ScheduleFiringData } from '@conveyor/queue';
import { AppError, type CreateJobRequest, type Logger } from '@conveyor/shared';

/**
 * The time a firing was for. BullMQ's job scheduler records it on the job it creates (`opts.prevMillis`,
 * also the tail of the job id `repeat:<scheduler>:<millis>`); a delivery without either is taken to be for
 * the whole second it was created in.
 */
export function firingTime(job: Pick<QueueJob, 'id' | 'opts' | 'timestamp'>): Date {
  const fromOpts = job.opts?.prevMillis;
  if (typeof fromOpts === 'number' && Number.isFinite(fromOpts) && fromOpts > 0) return new Date(fromOpts);
  const fromId = /:(\d{10,})$/.exec(job.id ?? '')?.[1];
  if (fromId) return new Date(Number(fromId));
  return new Date(Math.floor(job.timestamp / 1_000) * 1_000);
}

const isFiringData = (data: unknown): data is ScheduleFiringData =>
  typeof data === 'object' &&
  data !== null &&
  typeof (data as ScheduleFiringData).scheduleId === 'string' &&
  Number.isInteger((data as ScheduleFiringData).revision);

/**
 * The processor of the `schedules` queue: each BullMQ delivery is one firing of one schedule. It becomes a
 * job through the same row builder and hand-off as a POST /v1/jobs, in one transaction that locks the
 * schedule (fireSchedule): a deleted, paused or since-changed schedule, an unfinished previous job under
 * `overlap: skip`, or a second delivery of the same firing makes no job. Postgres errors throw, so BullMQ
 * retries the firing (its template allows 5 attempts, 1 s apart).
 */
export function createScheduleFirer(deps: { db: Db; producer: Producer; log: Logger }) {
  return async function fire(job: QueueJob): Promise<{ outcome: FiringOutcome['outcome']; jobId?: string }> {
    const data: unknown = job.data;
    if (!isFiringData(data)) {
      deps.log.warn({ bullJobId: job.id }, 'schedule firing without a schedule id: dropped');
      return { outcome: 'gone' };
    }
    const scheduledFor = firingTime(job);
    const log = deps.log.child({ scheduleId: data.scheduleId, scheduledFor: scheduledFor.toISOString() });
    let result: FiringOutcome;
    try {
      result = await fireSchedule(deps.db, { ...data, scheduledFor }, (schedule) =>
        buildJobRow(schedule.template as CreateJobRequest, {
          tenantId: schedule.tenantId,
          requestId: null,
          firing: { scheduleId: schedule.id, scheduledFor },
        }),
      );
    } catch (error) {
      // The template was valid when saved; a kind whose schema has changed since can reject it. Retrying
      // cannot help, and the schedule's later firings meet the same answer until the schedule is fixed.
      if (error instanceof AppError && error.code === 'validation_failed') {
        log.error({ errors: error.errors }, 'schedule template is no longer valid: firing skipped');
        return { outcome: 'gone' };
      }
      throw error;
    }
    if (result.outcome !== 'created') {
      log.debug({ outcome: result.outcome }, 'schedule firing made no job');
      return { outcome: result.outcome };
    }
    await handOffNewJobs(deps.producer, [result.row], log);
    log.info({ jobId: result.row.id, type: result.row.type }, 'schedule fired');
    return { outcome: 'created', jobId: result.row.id };
  };
}
