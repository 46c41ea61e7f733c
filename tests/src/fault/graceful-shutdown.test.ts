import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import type { AppProcess } from '../helpers/processes';
import { linesFor, startWorkerProcess } from '../helpers/worker-process';

/** Invariant 7: SIGTERM loses nothing. */
describe('SIGTERM to a worker process', () => {
  let h: Harness;
  const procs: AppProcess[] = [];

  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
    await h.close();
  });

  it('lets a short active job finish, then exits 0', async () => {
    const w = await startWorkerProcess(h, 'worker');
    procs.push(w);
    const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 1_500 } });
    await w.waitForLine(new RegExp(`${job.id}.*job started`));
    w.signal('SIGTERM');
    expect(await w.exited).toBe(0);
    expect((await h.getJob(job.id)).status).toBe('succeeded');
    expect(linesFor(w, job.id, 'job succeeded')).toHaveLength(1);
  });

  it('hands a job it cannot finish within the grace period to another worker at once', async () => {
    const leaving = await startWorkerProcess(h, 'worker-leaving', { WORKER_SHUTDOWN_GRACE_MS: '500' });
    procs.push(leaving);
    // maxAttempts 1: a graceful stop must not spend the job's only attempt.
    const { job } = await h.submit({
      type: 'noop',
      payload: { sleepMs: 4_000 },
      options: { maxAttempts: 1 },
    });
    await leaving.waitForLine(new RegExp(`${job.id}.*job started`));
    const staying = await startWorkerProcess(h, 'worker-staying');
    procs.push(staying);

    const signalled = Date.now();
    leaving.signal('SIGTERM');
    expect(await leaving.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);

    const done = await h.waitForStatus(job.id, ['succeeded'], 20_000);
    expect(done.attempts).toBe(1);
    const events = await h.events(job.id);
    expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'retrying', 'running', 'succeeded']);
    expect(events[2]!.data.error).toMatchObject({ code: 'interrupted' });
    expect(linesFor(staying, job.id, 'job succeeded')).toHaveLength(1);
  });
});
