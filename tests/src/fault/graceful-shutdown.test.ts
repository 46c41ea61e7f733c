import { describe, expect, it } from 'vitest';
import { useWorkerProcesses } from '../helpers/use-worker-processes';
import { linesFor, workerThatStarted } from '../helpers/worker-process';

/** Invariant 7: SIGTERM loses nothing. */
describe('SIGTERM to a worker process', () => {
  const { harness, startWorker } = useWorkerProcesses();

  it('lets a short active job finish, then exits 0', async () => {
    const h = harness();
    const w = await startWorker('worker');
    const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 1_500 } });
    await w.waitForLine(new RegExp(`${job.id}.*job started`));
    w.signal('SIGTERM');
    expect(await w.exited).toBe(0);
    expect((await h.getJob(job.id)).status).toBe('succeeded');
    expect(linesFor(w, job.id, 'job succeeded')).toHaveLength(1);
  });

  it('hands a job it cannot finish within the grace period to another worker at once', async () => {
    const h = harness();
    // Both up before the job (a worker starting after it could take longer than the job on a loaded
    // machine); whichever takes the job is the one that leaves.
    const workers = await Promise.all(
      ['worker-1', 'worker-2'].map((name) => startWorker(name, { WORKER_SHUTDOWN_GRACE_MS: '500' })),
    );
    // maxAttempts 1: a graceful stop must not spend the job's only attempt.
    const { job } = await h.submit({
      type: 'noop',
      payload: { sleepMs: 4_000 },
      options: { maxAttempts: 1 },
    });
    const leaving = await workerThatStarted(workers, job.id);
    const staying = workers.find((w) => w !== leaving)!;

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
