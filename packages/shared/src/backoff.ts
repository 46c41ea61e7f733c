/** Retry timing for one job kind. */
export interface BackoffPolicy {
  /** Delay before the second attempt, in ms; each later attempt doubles it. */
  baseMs: number;
  /** Upper bound of any one delay, in ms. */
  maxMs: number;
}

/**
 * Capped exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of
 * jobs that failed together spread out but never come back sooner than half the nominal delay.
 * `attempt` is the attempt that just failed (1-based).
 */
export function retryDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(nominal / 2 + random() * (nominal / 2));
}
