import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { checkInvariants, createAnswerRecorder, logSummary } from '../helpers/invariants';
import { httpSubmit, startLoad } from '../helpers/load';
import { freePort } from '../helpers/ports';
import { type AppProcess, startApp } from '../helpers/processes';
import { startTcpProxy, type TcpProxy, viaProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess } from '../helpers/worker-process';

/**
 * Postgres gone for 10 s under load, for the API process and every worker process at once: each reaches
 * the shared Postgres only through a proxy that the test cuts (the shared server itself is never stopped).
 */
describe('Postgres unreachable for 10 s under load', () => {
  let h: Harness;
  let proxy: TcpProxy;
  const procs: AppProcess[] = [];
  let base: string;

  beforeAll(async () => {
    h = await createHarness();
    const target = new URL(h.db.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const databaseUrl = viaProxy(h.db.url, proxy);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const api = startApp('api', {
      DATABASE_URL: databaseUrl,
      REDIS_URL: h.redisUrl,
      QUEUE_PREFIX: h.prefix,
      PORT: String(port),
      HOST: '127.0.0.1',
      RATE_LIMIT_POINTS: '0',
    });
    procs.push(api);
    const workers = await Promise.all(
      ['worker-a', 'worker-b', 'worker-c'].map((n) =>
        startWorkerProcess(h, n, { DATABASE_URL: databaseUrl, WORKER_DB_OUTAGE_RETRY_MS: '30000' }, 60_000),
      ),
    );
    procs.push(...workers);
    await api.waitForLine(/"api listening"/, 60_000);
  });
  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await Promise.all(procs.map((p) => p.kill()));
    await h?.close();
    await proxy?.close();
  });

  it('the API answers 503 with Retry-After at once, workers record outcomes after, and no job fails', async () => {
    const answers = createAnswerRecorder();
    const body = (i: number) => ({ type: 'noop', payload: { sleepMs: 100 + ((i * 37) % 400), echo: i } });
    const load = startLoad(httpSubmit(base, h.key), answers, {
      total: 400,
      concurrency: 3,
      pauseMs: 40,
      body,
    });
    try {
      await waitFor('jobs in flight', () => answers.accepted.length >= 120, 60_000, 20);
      await proxy.cut();
      const cutAt = Date.now();
      await sleep(10_000);
      await proxy.restore();
      const restoredAt = Date.now();
      await load.done;
      const during = answers.answers.filter((a) => a.at > cutAt + 500 && a.at < restoredAt);
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
    } finally {
      await proxy.restore();
      await load.stop();
    }
  });
});
