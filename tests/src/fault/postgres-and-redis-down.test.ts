import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../helpers/harness';
import { checkInvariants, logSummary } from '../helpers/invariants';
import { submitAcrossOutage } from '../helpers/outage-load';
import { usePrivateRedisHarness } from '../helpers/private-redis-harness';
import { type ProxiedStack, startProxiedStack } from '../helpers/proxied-stack';

/**
 * Postgres and Redis gone together for 10 s under a submit load: the API process and 3 worker processes
 * reach Postgres through a proxy the test cuts, and Redis is a private server the test kills (it comes back
 * empty, without persistence). Nothing can be accepted meanwhile; nothing accepted before may be lost.
 */
describe('Postgres and Redis down together for 10 s under load', () => {
  const env = usePrivateRedisHarness();
  let stack: ProxiedStack;

  beforeAll(async () => {
    stack = await startProxiedStack(env.harness(), {
      workers: ['worker-a', 'worker-b', 'worker-c'],
      workerEnv: { WORKER_DB_OUTAGE_RETRY_MS: '30000' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers 503 with Retry-After at once, and every job accepted before completes after both return', async () => {
    const [h, redis, { proxy, base, procs }] = [env.harness(), env.redis(), stack];
    let acceptedAtCut = 0;
    let inFlightAtCut = 0;
    const { answers, during, restoredAt } = await submitAcrossOutage(h, base, {
      cut: () => Promise.all([proxy.cut(), redis.stop()]),
      restore: () => Promise.all([proxy.restore(), redis.start()]),
      afterCut: async (recorded) => {
        acceptedAtCut = recorded.accepted.length;
        inFlightAtCut = await pendingCount(h, recorded.accepted.slice(0, acceptedAtCut));
      },
    });
    const report = await checkInvariants(h, answers.accepted, {
      answers,
      since: restoredAt,
      settleTimeoutMs: 90_000,
    });
    logSummary('postgres-and-redis-down-10s', report, {
      acceptedBeforeCut: acceptedAtCut,
      notFinishedAtCut: inFlightAtCut,
      answersDuringOutage: during.length,
      unavailable: report.unavailable,
      slowestAnswerMs: report.slowestMs,
      slowestDuringOutageMs: Math.max(0, ...during.map((a) => a.ms)),
      noAnswer: report.noAnswer,
    });
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((a) => a.status === 503 && a.retryAfter)).toBe(true);
    // No submit hangs: each outage answer came within a few seconds (the summary logs the slowest).
    expect(Math.max(...during.map((a) => a.ms))).toBeLessThan(5_000);
    expect(report.noAnswer).toBe(0);
    expect(report.bad5xx).toBe(0);
    expect(report.lost).toBe(0);
    expect(report.backwards).toBe(0);
    expect(report.byStatus).toEqual({ succeeded: answers.accepted.length });
    expect(answers.accepted.length + report.unavailable).toBe(answers.answers.length);
    expect(procs.every((p) => p.child.exitCode === null)).toBe(true);
  });
});

/** Accepted jobs not yet terminal, read straight from Postgres (the harness's own connection, not proxied). */
async function pendingCount(h: Harness, ids: string[]): Promise<number> {
  const { findJobsByIds } = await import('@conveyor/db');
  const rows = await findJobsByIds(h.db.db, h.tenantId, ids);
  return rows.filter((r) => !['succeeded', 'failed', 'canceled'].includes(r.status)).length;
}
