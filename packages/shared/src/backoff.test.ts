import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, retryDelayMs } from './backoff';

const policy: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };
const lowest = () => 0;
const highest = () => 1;

describe('retryDelayMs', () => {
  it('doubles the nominal delay with each failed attempt', () => {
    const nominal = [1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(policy, attempt, highest));
    expect(nominal).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000]);
  });

  it('caps every delay at maxMs', () => {
    expect(retryDelayMs(policy, 7, highest)).toBe(60_000);
    expect(retryDelayMs(policy, 50, highest)).toBe(60_000);
    expect(retryDelayMs(policy, 10_000, highest)).toBe(60_000);
    expect(retryDelayMs(policy, 10_000, lowest)).toBe(30_000);
  });

  it('never returns less than half the nominal delay (random = 0)', () => {
    const halves = [1, 2, 3, 4, 5, 6, 7].map((attempt) => retryDelayMs(policy, attempt, lowest));
    expect(halves).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
  });

  it('stays within [nominal / 2, nominal] for any random value', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      for (const r of [0, 0.001, 0.25, 0.5, 0.75, 0.999, 1]) {
        const delay = retryDelayMs(policy, attempt, () => r);
        expect(delay).toBeGreaterThanOrEqual(nominal / 2);
        expect(delay).toBeLessThanOrEqual(nominal);
      }
    }
  });

  it('treats an attempt below 1 as the first', () => {
    expect(retryDelayMs(policy, 0, highest)).toBe(1_000);
    expect(retryDelayMs(policy, -3, highest)).toBe(1_000);
  });

  it('uses Math.random by default and stays within bounds', () => {
    for (let i = 0; i < 1_000; i++) {
      const delay = retryDelayMs(policy, 3);
      expect(delay).toBeGreaterThanOrEqual(2_000);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });
});
