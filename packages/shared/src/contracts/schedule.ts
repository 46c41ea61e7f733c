import { z } from 'zod';
import { canonicalTimeZone, cronProblem } from '../schedules/cron';
import { createJobRequest } from './job';

export const SCHEDULE_OVERLAPS = ['skip', 'allow'] as const;
export const scheduleOverlap = z.enum(SCHEDULE_OVERLAPS);
export type ScheduleOverlap = z.infer<typeof scheduleOverlap>;

/** Most schedules one tenant may have; a create beyond it answers 422 validation_failed. */
export const MAX_SCHEDULES_PER_TENANT = 1_000;

const cron = z
  .string()
  .max(200)
  .superRefine((value, ctx) => {
    const problem = cronProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** An IANA zone name, stored in its canonical spelling. */
const timezone = z
  .string()
  .max(64)
  .transform((value, ctx) => {
    const zone = canonicalTimeZone(value);
    if (!zone) {
      ctx.addIssue({ code: 'custom', message: `unknown IANA time zone "${value}"` });
      return z.NEVER;
    }
    return zone;
  });

/**
 * POST /v1/schedules, and PUT /v1/schedules/{id} (a full replacement: a field left out takes its default).
 * `template` is exactly a POST /v1/jobs body; its payload is checked against the kind's schema on write.
 */
export const scheduleRequest = z
  .object({
    name: z.string().trim().min(1).max(200).nullable().default(null),
    cron,
    timezone: timezone.default('UTC'),
    template: createJobRequest,
    overlap: scheduleOverlap.default('skip'),
    paused: z.boolean().default(false),
  })
  .strict()
  .meta({ id: 'ScheduleRequest' });
export type ScheduleRequest = z.infer<typeof scheduleRequest>;

export const scheduleView = z
  .object({
    id: z.uuid(),
    name: z.string().nullable(),
    cron: z.string(),
    timezone: z.string(),
    template: z.record(z.string(), z.unknown()),
    overlap: scheduleOverlap,
    paused: z.boolean(),
    /** The next firing per the cron and zone; null while paused (or when the expression has none left). */
    nextRunAt: z.string().nullable(),
    lastFiredAt: z.string().nullable(),
    lastJobId: z.uuid().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Schedule' });
export type ScheduleView = z.infer<typeof scheduleView>;
