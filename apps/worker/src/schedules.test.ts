import { describe, expect, it } from 'vitest';
import { firingTime } from './schedules';

describe('firingTime', () => {
  const timestamp = Date.parse('2026-01-01T00:00:07.250Z');

  it('takes the time BullMQ recorded for the firing', () => {
    const job = { id: 'repeat:s:1767225600000', opts: { prevMillis: 1_767_225_605_000 }, timestamp };
    expect(firingTime(job).toISOString()).toBe('2026-01-01T00:00:05.000Z');
  });

  it('falls back to the time in the job id, then to the second the job was made in', () => {
    expect(firingTime({ id: 'repeat:s:1767225606000', opts: {}, timestamp }).toISOString()).toBe(
      '2026-01-01T00:00:06.000Z',
    );
    expect(firingTime({ id: 'other', opts: {}, timestamp }).toISOString()).toBe('2026-01-01T00:00:07.000Z');
  });
});
