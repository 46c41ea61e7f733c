import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { checkInvariants, logSummary } from '../helpers/invariants';
import { submitAcrossOutage } from '../helpers/outage-load';
import { type ProxiedStack, startProxiedStack } from '../helpers/proxied-stack';

/**
 * Postgres gone for 10 s under load, for the API process and every worker process at once: each reaches
 * the shared Postgres only through a proxy that the test cuts (the shared server itself is never stopped).
 */
describe('Postgres unreachable for 10 s under load', () => {
  let h: Harness;
  let stack: ProxiedStack;

  beforeAll(async () => {
    h = await createHarness();
    stack = await startProxiedStack(h, {
      workers: ['worker-a', 'worker-b', 'worker-c'],
      workerEnv: { WORKER_DB_OUTAGE_RETRY_MS: '30000' },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await h?.close();
  });

  it('the API answers 503 with Retry-After at once, workers record outcomes after, and no job fails', async () => {
    const { proxy, base, procs } = stack;
    const { answers, cutAt, during, restoredAt } = await submitAcrossOutage(h, base, {
      cut: () => proxy.cut(),
      restore: () => proxy.restore(),
    });
    const report = await checkInvariants(h, answers.accepted, { answers, since: restoredAt });
    logSummary('postgres-down-10s', report, {
      answersDuringOutage: during.length,
      unavailable: report.unavailable,
      slowestAnswerMs: report.slowestMs,
      slowAnswers: answers.answers
        .filter((a) => a.ms > 3_000)
        .map((a) => ({ status: a.status, ms: a.ms, sinceCut: a.at - cutAt })),
    });
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((a) => a.status === 503 && a.retryAfter)).toBe(true);
    // Every submit got an answer within the load generator's 10 s timeout (the summary logs the slowest).
    expect(report.slowestMs).toBeLessThan(10_000);
    expect(report.noAnswer).toBe(0);
    expect(report.lost).toBe(0);
    expect(report.backwards).toBe(0);
    expect(report.bad5xx).toBe(0);
    expect(report.byStatus).toEqual({ succeeded: answers.accepted.length });
    expect(procs.every((p) => p.child.exitCode === null)).toBe(true);
  });
});
