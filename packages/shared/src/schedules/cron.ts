import { CronExpressionParser } from 'cron-parser';

/**
 * Cron expressions as BullMQ's job schedulers read them (the same cron-parser): five fields
 * (minute hour day-of-month month day-of-week) or six with a leading seconds field. One second is the
 * finest step a cron can express, so no schedule fires more than once a second. Aliases such as `@daily`
 * are not accepted: a schedule names its fields.
 */
export const CRON_FIELD_COUNTS = [5, 6] as const;

/** The canonical IANA name of `zone` (e.g. `europe/berlin` → `Europe/Berlin`), or undefined if unknown. */
export function canonicalTimeZone(zone: string): string | undefined {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(zone)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Why `cron` is not a usable expression, or undefined when it is. */
export function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (!(CRON_FIELD_COUNTS as readonly number[]).includes(fields.length))
    return `expected 5 fields (minute hour day month weekday) or 6 with leading seconds, got ${fields.length}`;
  try {
    // A cron that parses but never fires (30 February) has no next date.
    CronExpressionParser.parse(cron, { tz: 'UTC' }).next();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : 'not a cron expression';
  }
}

/** The first firing strictly after `after`, or null when the expression has none left. */
export function nextCronRun(cron: string, timeZone: string, after: Date = new Date()): Date | null {
  try {
    return CronExpressionParser.parse(cron, { tz: timeZone, currentDate: after }).next().toDate();
  } catch {
    return null;
  }
}

/**
 * The firing at or before `at`: what a delivery at `at` was for when the queue did not say (it normally
 * does: BullMQ's scheduler records the intended time on the job it creates).
 */
export function cronTickAtOrBefore(cron: string, timeZone: string, at: Date): Date | null {
  try {
    const expression = CronExpressionParser.parse(cron, {
      tz: timeZone,
      currentDate: new Date(at.getTime() + 1),
    });
    return expression.prev().toDate();
  } catch {
    return null;
  }
}
