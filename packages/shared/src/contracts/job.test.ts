import { describe, expect, it } from 'vitest';
import { createJobRequest, isTerminal, JOB_STATUSES, MAX_PRIORITY } from './job';

const withOptions = (options: Record<string, unknown>) =>
  createJobRequest.safeParse({ type: 'noop', payload: {}, options });

describe('createJobRequest', () => {
  it('accepts a minimal request and defaults the payload to {}', () => {
    expect(createJobRequest.parse({ type: 'noop' })).toEqual({ type: 'noop', payload: {} });
  });

  const TOMORROW = new Date(Date.now() + 86_400_000).toISOString();

  it('rejects delay and runAt given together, pointing at runAt', () => {
    const parsed = withOptions({ delay: 1_000, runAt: TOMORROW });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path)).toEqual([['options', 'runAt']]);
  });

  it('accepts delay or runAt alone', () => {
    expect(withOptions({ delay: 1_000 }).success).toBe(true);
    expect(withOptions({ runAt: TOMORROW }).success).toBe(true);
  });

  it('rejects a runAt that is not an ISO date-time', () => {
    expect(withOptions({ runAt: 'tomorrow' }).success).toBe(false);
  });

  it.each([1, 2, 50, 100])('accepts maxAttempts %d', (maxAttempts) => {
    expect(withOptions({ maxAttempts }).success).toBe(true);
  });

  it.each([0, -1, 101, 1.5])('rejects maxAttempts %d', (maxAttempts) => {
    const parsed = withOptions({ maxAttempts });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['options', 'maxAttempts']);
  });

  it('bounds priority to 0..2^21', () => {
    expect(withOptions({ priority: 0 }).success).toBe(true);
    expect(withOptions({ priority: MAX_PRIORITY }).success).toBe(true);
    expect(withOptions({ priority: MAX_PRIORITY + 1 }).success).toBe(false);
    expect(withOptions({ priority: -1 }).success).toBe(false);
  });

  it('rejects unknown keys at the top level and in options', () => {
    expect(createJobRequest.safeParse({ type: 'noop', extra: 1 }).success).toBe(false);
    expect(withOptions({ retries: 3 }).success).toBe(false);
  });

  it('accepts a webhook with an http(s) url and nothing else', () => {
    const parse = (webhook: unknown) => createJobRequest.safeParse({ type: 'noop', webhook }).success;
    expect(parse({ url: 'https://example.com/hook' })).toBe(true);
    expect(parse({ url: 'http://127.0.0.1:8080/hook?x=1' })).toBe(true);
    expect(parse({ url: 'javascript:alert(1)' })).toBe(false);
    expect(parse({ url: 'https://a:b@example.com/' })).toBe(false);
    expect(parse({ url: '/relative' })).toBe(false);
    expect(parse({ url: 'https://example.com', headers: {} })).toBe(false);
    expect(parse({})).toBe(false);
  });

  it('bounds runAt between 2000 and one year ahead', () => {
    const runAt = (v: string) => createJobRequest.safeParse({ type: 'noop', options: { runAt: v } }).success;
    expect(runAt('2026-01-01T00:00:00Z')).toBe(true);
    expect(runAt('0030-06-01T00:00:00Z')).toBe(false);
    expect(runAt('9999-12-31T23:59:59-01:00')).toBe(false);
  });
});

describe('job statuses', () => {
  it('treats exactly succeeded, failed and canceled as terminal', () => {
    expect(JOB_STATUSES.filter(isTerminal)).toEqual(['succeeded', 'failed', 'canceled']);
  });
});
