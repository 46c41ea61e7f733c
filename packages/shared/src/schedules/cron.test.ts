import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, cronProblem, cronTickAtOrBefore, nextCronRun } from './cron';

describe('cron expressions', () => {
  it.each(['* * * * * *', '*/5 * * * *', '0 30 2 * * 1-5', '0 0 L * *'])('accepts %s', (cron) => {
    expect(cronProblem(cron)).toBeUndefined();
  });

  it.each([
    ['', /got 0/],
    ['* * * *', /got 4/],
    ['* * * * * * *', /got 7/],
    ['@daily', /got 1/],
    ['61 * * * * *', /range/],
    ['0 0 30 2 *', /day of month/i],
    ['a b c d e', /./],
  ])('refuses %j', (cron, message) => {
    expect(cronProblem(cron)).toMatch(message);
  });

  it('finds the next run in the given zone, across a daylight-saving change', () => {
    // Europe/Berlin leaves summer time on 2026-10-25: 09:00 local is 07:00 UTC before, 08:00 UTC after.
    const before = nextCronRun('0 9 * * *', 'Europe/Berlin', new Date('2026-10-24T12:00:00Z'));
    const after = nextCronRun('0 9 * * *', 'Europe/Berlin', new Date('2026-10-25T12:00:00Z'));
    expect(before?.toISOString()).toBe('2026-10-25T08:00:00.000Z');
    expect(after?.toISOString()).toBe('2026-10-26T08:00:00.000Z');
    expect(nextCronRun('0 9 * * *', 'Europe/Berlin', new Date('2026-10-23T12:00:00Z'))?.toISOString()).toBe(
      '2026-10-24T07:00:00.000Z',
    );
  });

  it('rounds a time down to its cron tick', () => {
    expect(
      cronTickAtOrBefore('* * * * * *', 'UTC', new Date('2026-01-01T00:00:05.734Z'))?.toISOString(),
    ).toBe('2026-01-01T00:00:05.000Z');
    expect(cronTickAtOrBefore('0 * * * *', 'UTC', new Date('2026-01-01T03:59:59Z'))?.toISOString()).toBe(
      '2026-01-01T03:00:00.000Z',
    );
  });
});

describe('time zones', () => {
  it('canonicalises IANA names and refuses the rest', () => {
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('Mars/Olympus')).toBeUndefined();
    expect(canonicalTimeZone('../etc/passwd')).toBeUndefined();
    expect(canonicalTimeZone('')).toBeUndefined();
  });
});
