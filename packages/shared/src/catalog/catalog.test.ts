import { describe, expect, it } from 'vitest';
import { catalog, isJobType, jobTypes, kindsOfQueue, noopPayload, queueNames } from './index';

describe('catalog', () => {
  it("puts every kind's queue in queueNames", () => {
    expect(jobTypes.length).toBeGreaterThan(0);
    for (const type of jobTypes) expect(queueNames).toContain(catalog[type].queue);
  });

  it('lists each queue once, and each queue runs at least one kind', () => {
    expect(new Set(queueNames).size).toBe(queueNames.length);
    for (const queue of queueNames) expect(kindsOfQueue(queue).length).toBeGreaterThan(0);
    expect(queueNames.flatMap((queue) => kindsOfQueue(queue)).sort()).toEqual([...jobTypes].sort());
  });

  it('gives every kind sane retry and timeout defaults', () => {
    for (const type of jobTypes) {
      const kind = catalog[type];
      expect(kind.maxAttempts).toBeGreaterThanOrEqual(1);
      expect(kind.maxAttempts).toBeLessThanOrEqual(100);
      expect(kind.backoff.baseMs).toBeGreaterThan(0);
      expect(kind.backoff.baseMs).toBeLessThanOrEqual(kind.backoff.maxMs);
      expect(kind.timeoutMs).toBeGreaterThan(0);
    }
  });

  it('knows only its own kinds, not inherited object keys', () => {
    expect(isJobType('noop')).toBe(true);
    expect(isJobType('nope')).toBe(false);
    expect(isJobType('toString')).toBe(false);
    expect(isJobType('__proto__')).toBe(false);
    expect(kindsOfQueue('no-such-queue')).toEqual([]);
  });
});

describe('noop payload', () => {
  it('accepts an empty payload and the documented fields', () => {
    expect(noopPayload.safeParse({}).success).toBe(true);
    expect(noopPayload.safeParse({ sleepMs: 60_000, fail: 'once', echo: { a: [1] } }).success).toBe(true);
    expect(catalog.noop.payload).toBe(noopPayload);
  });

  it('rejects sleepMs above 60000, negative or fractional', () => {
    expect(noopPayload.safeParse({ sleepMs: 60_001 }).success).toBe(false);
    expect(noopPayload.safeParse({ sleepMs: -1 }).success).toBe(false);
    expect(noopPayload.safeParse({ sleepMs: 1.5 }).success).toBe(false);
  });

  it('rejects unknown keys', () => {
    const parsed = noopPayload.safeParse({ sleepMs: 10, extra: true });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.code).toBe('unrecognized_keys');
  });

  it('rejects an unknown failure mode', () => {
    expect(noopPayload.safeParse({ fail: 'sometimes' }).success).toBe(false);
  });
});
