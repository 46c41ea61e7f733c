import { describe, expect, it } from 'vitest';
import { BACKOFF_TYPE, type EnqueueRef, jobOptions } from './job-options';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

const ref = (overrides: Partial<EnqueueRef> = {}): EnqueueRef => ({
  id: '0194f5a2-6c1e-7000-8000-000000000001',
  type: 'noop',
  queue: 'default',
  priority: 0,
  runAt: new Date(NOW),
  generation: 0,
  attemptsLeft: 3,
  ...overrides,
});

describe('jobOptions', () => {
  it('uses the row id as the BullMQ job id', () => {
    expect(jobOptions(ref(), NOW).jobId).toBe('0194f5a2-6c1e-7000-8000-000000000001');
  });

  it('delays until runAt', () => {
    expect(jobOptions(ref({ runAt: new Date(NOW + 90_000) }), NOW).delay).toBe(90_000);
    expect(jobOptions(ref({ runAt: new Date(NOW) }), NOW).delay).toBe(0);
  });

  it('never gives a negative delay for a runAt in the past', () => {
    expect(jobOptions(ref({ runAt: new Date(NOW - 5_000) }), NOW).delay).toBe(0);
    expect(jobOptions(ref({ runAt: new Date(0) }), NOW).delay).toBe(0);
  });

  it('omits priority 0 (BullMQ treats any priority as prioritized) and passes others through', () => {
    expect(jobOptions(ref({ priority: 0 }), NOW)).not.toHaveProperty('priority');
    expect(jobOptions(ref({ priority: 1 }), NOW).priority).toBe(1);
    expect(jobOptions(ref({ priority: 2_097_152 }), NOW).priority).toBe(2_097_152);
  });

  it('asks for at least one attempt', () => {
    expect(jobOptions(ref({ attemptsLeft: 3 }), NOW).attempts).toBe(3);
    expect(jobOptions(ref({ attemptsLeft: 1 }), NOW).attempts).toBe(1);
    expect(jobOptions(ref({ attemptsLeft: 0 }), NOW).attempts).toBe(1);
    expect(jobOptions(ref({ attemptsLeft: -2 }), NOW).attempts).toBe(1);
  });

  it("retries with the worker's backoff strategy and keeps finished jobs for the reconciler", () => {
    const options = jobOptions(ref(), NOW);
    expect(options.backoff).toEqual({ type: BACKOFF_TYPE });
    expect(options.removeOnComplete).toEqual({ age: 24 * 3600, count: 100_000 });
    expect(options.removeOnFail).toEqual({ age: 7 * 24 * 3600, count: 100_000 });
  });

  it('measures the delay from the current time by default', () => {
    const delay = jobOptions(ref({ runAt: new Date(Date.now() + 60_000) })).delay!;
    expect(delay).toBeGreaterThan(59_000);
    expect(delay).toBeLessThanOrEqual(60_000);
  });
});
