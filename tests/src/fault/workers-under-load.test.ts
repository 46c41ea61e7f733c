import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { checkInvariants, createAnswerRecorder, logSummary } from '../helpers/invariants';
import { inProcessSubmit, noopJob, startLoad } from '../helpers/load';
import type { AppProcess } from '../helpers/processes';
import { waitFor } from '../helpers/wait';
import { startWorkerProcess } from '../helpers/worker-process';

/** Invariants 3, 4 and 7 with several worker processes and a few hundred jobs in flight. */
describe('worker faults under load', () => {
  let h: Harness;
  /** The live workers, shared by the scenarios (a process start costs seconds): each begins with 3. */
  const pool: AppProcess[] = [];
  const gone: AppProcess[] = [];
  let seq = 0;
  // image.resize may fetch from loopback: the never-answering downstream listens there.
  const spawnWorker = () =>
    startWorkerProcess(h, `worker-${++seq}`, { FETCH_ALLOWLIST: '127.0.0.1' }, 60_000);
  const alive = (w: AppProcess) => w.child.exitCode === null && w.child.signalCode === null;
  const ensureWorkers = async (n = 3) => {
    for (const w of pool.filter((p) => !alive(p))) gone.push(...pool.splice(pool.indexOf(w), 1));
    const more = await Promise.all(Array.from({ length: Math.max(0, n - pool.length) }, spawnWorker));
    pool.push(...more);
  };
  /** Resolves once `w` has started `n` more jobs than when this was called. */
  const runsJobs = (w: AppProcess, n: number) => {
    const from = w.lines.length;
    return waitFor(
      `${w.name} to run jobs`,
      () => w.lines.slice(from).filter((l) => l.includes('job started')).length >= n,
      30_000,
      20,
    );
  };

  beforeAll(async () => {
    h = await createHarness();
  });
  beforeEach(async () => {
    await ensureWorkers();
  });
  afterEach(() => {
    for (const w of pool) if (alive(w)) w.signal('SIGCONT');
  });
  afterAll(async () => {
    await Promise.all([...pool, ...gone].map((p) => p.kill()));
    await h?.close();
  });

  it('SIGKILL of one of 3 workers mid-job: another finishes its jobs', async () => {
    const a = pool[0]!;
    const answers = createAnswerRecorder();
    const running = runsJobs(a, 10);
    const load = startLoad(inProcessSubmit(h), answers, { total: 300, concurrency: 4, pauseMs: 10 });
    await running;
    a.signal('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    const killedAt = Date.now();
    await load.done;
    const report = await checkInvariants(h, answers.accepted, { answers, since: killedAt });
    logSummary('worker-sigkill', report);
    expect(report.accepted).toBe(300);
    expect(report.lost).toBe(0);
    expect(report.backwards).toBe(0);
    expect(report.bad5xx).toBe(0);
    expect(report.byStatus).toEqual({ succeeded: 300 });
  });

  it('SIGTERM rolling restart of every worker while submits continue loses nothing', async () => {
    const answers = createAnswerRecorder();
    const load = startLoad(inProcessSubmit(h), answers, { total: 300, concurrency: 2, pauseMs: 30 });
    for (let i = 0; i < pool.length; i++) {
      await sleep(1_000);
      const leaving = pool[i]!;
      leaving.signal('SIGTERM');
      expect(await leaving.exited).toBe(0);
      gone.push(leaving);
      pool[i] = await spawnWorker();
    }
    const restartedAt = Date.now();
    await load.done;
    const report = await checkInvariants(h, answers.accepted, { answers, since: restartedAt });
    logSummary('worker-rolling-sigterm', report);
    expect(report.accepted).toBe(300);
    expect(report.lost).toBe(0);
    expect(report.backwards).toBe(0);
    expect(report.bad5xx).toBe(0);
    expect(report.byStatus).toEqual({ succeeded: 300 });
  });

  it('a worker frozen past its lock: others finish its jobs, its late results are discarded, it lives on', async () => {
    const frozen = pool[0]!;
    const answers = createAnswerRecorder();
    const body = (i: number) => ({ type: 'noop', payload: { sleepMs: 300 + ((i * 37) % 500), echo: i } });
    const running = runsJobs(frozen, 10);
    const load = startLoad(inProcessSubmit(h), answers, { total: 250, concurrency: 4, pauseMs: 10, body });
    await running;
    const from = frozen.lines.length;
    frozen.signal('SIGSTOP');
    await sleep(5_000);
    frozen.signal('SIGCONT');
    const thawedAt = Date.now();
    await load.done;
    const report = await checkInvariants(h, answers.accepted, { answers, since: thawedAt });
    // Its late outcomes were refused (fenced), not written over the newer attempts'.
    await waitFor('the frozen worker to report a stale attempt', () =>
      frozen.lines.slice(from).some((l) => l.includes('stale attempt')),
    );
    const stale = frozen.lines.slice(from).filter((l) => l.includes('stale attempt')).length;
    logSummary('worker-sigstop', report, { staleResultsDiscarded: stale });
    expect(report.lost).toBe(0);
    expect(report.backwards).toBe(0);
    expect(report.bad5xx).toBe(0);
    expect(report.duplicates).toBeGreaterThan(0);
    expect(report.byStatus).toEqual({ succeeded: 250 });
    expect(frozen.child.exitCode).toBeNull();
    expect(frozen.child.signalCode).toBeNull();
  });

  it('a poison pill that kills its worker every time ends failed after maxAttempts starts; others flow', async () => {
    // A supervisor, as systemd or Kubernetes would be: a worker that died is started again.
    let supervising = true;
    let restarts = 0;
    const deadBefore = new Set([...pool, ...gone].filter((w) => !alive(w)));
    // A Set: while the supervisor awaits a replacement, the dead worker is in `gone` and still in `pool`.
    const crashed = () =>
      new Set([...pool, ...gone].filter((w) => !deadBefore.has(w) && w.child.signalCode === 'SIGKILL'));
    const supervise = (async () => {
      while (supervising) {
        for (const [i, w] of pool.entries()) {
          if (alive(w)) continue;
          restarts++;
          gone.push(w);
          pool[i] = await spawnWorker();
        }
        await sleep(100);
      }
    })();
    try {
      const answers = createAnswerRecorder();
      const poison = await h.submit({ type: 'noop', payload: { crash: true }, options: { maxAttempts: 3 } });
      expect(poison.res.status).toBe(202);
      const load = startLoad(inProcessSubmit(h), answers, { total: 200, concurrency: 2, pauseMs: 30 });
      const failed = await h.waitForStatus(poison.job.id, ['failed'], 60_000);
      const poisonedAt = Date.now();
      await load.done;
      const report = await checkInvariants(h, answers.accepted, { answers, since: poisonedAt });
      const events = await h.events(poison.job.id);
      logSummary('poison-pill', report, {
        poisonStarts: failed.attempts,
        workerCrashes: crashed().size,
        workerRestarts: restarts,
        crashedPids: [...crashed()].map((w) => w.pid),
        events: events.map((e) => `${e.type}:${JSON.stringify(e.data)}`),
      });
      expect(failed.attempts).toBe(3);
      expect(failed.error).toMatchObject({ code: 'attempts_exhausted' });
      expect(events.filter((e) => e.type === 'running')).toHaveLength(3);
      // A start is recorded (attempts + 1) before the handler runs and refused once attempts = maxAttempts:
      // every crash is a recorded start, and every start of the pill crashed its worker. Exactly 3.
      expect(crashed().size).toBe(failed.attempts);
      expect(report.lost).toBe(0);
      expect(report.backwards).toBe(0);
      expect(report.byStatus).toEqual({ succeeded: 200 });
    } finally {
      supervising = false;
      await supervise;
    }
  });

  it('a downstream that accepts and never answers: the attempt times out and retries', async () => {
    const held = new Set<Socket>();
    const silent: Server = createServer((s) => {
      held.add(s);
      s.on('error', () => {});
      s.on('close', () => held.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const answers = createAnswerRecorder();
      const hung = await Promise.all(
        Array.from({ length: 3 }, (_, i) =>
          h.submit({
            type: 'image.resize',
            payload: { source: { url: `http://127.0.0.1:${port}/img-${i}.png` }, variants: [{ width: 10 }] },
            options: { timeout: 1_000, maxAttempts: 2 },
          }),
        ),
      );
      for (const { res } of hung) expect(res.status, await res.clone().text()).toBe(202);
      const load = startLoad(inProcessSubmit(h), answers, {
        total: 150,
        concurrency: 2,
        pauseMs: 20,
        body: noopJob,
      });
      const started = Date.now();
      for (const { job } of hung) {
        const done = await h.waitForStatus(job.id, ['failed'], 30_000);
        expect(done.attempts).toBe(2);
        expect(done.error).toMatchObject({ code: 'timeout' });
      }
      await load.done;
      const report = await checkInvariants(h, [...answers.accepted, ...hung.map((s) => s.job.id)], {
        answers,
        since: started,
      });
      logSummary('downstream-never-answers', report);
      expect(report.lost).toBe(0);
      expect(report.backwards).toBe(0);
      expect(report.byStatus).toEqual({ succeeded: 150, failed: 3 });
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
