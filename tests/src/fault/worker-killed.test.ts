import { describe, expect, it } from 'vitest';
import { useWorkerProcesses } from '../helpers/use-worker-processes';
import { linesFor, workerThatStarted } from '../helpers/worker-process';

/** Invariant 4: a worker killed mid-job leaves a job that another worker finishes. */
describe('a worker process killed with SIGKILL mid-job', () => {
  const { harness, startWorker } = useWorkerProcesses();

  it('leaves the job to another worker, which finishes it and records succeeded', async () => {
    const h = harness();
    // Both up before the job: a worker starting after it could take longer (on a loaded machine) than the job.
    const workers = await Promise.all([startWorker('worker-a'), startWorker('worker-b')]);
    const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 3_000, echo: 'survivor' } });
    await h.waitForStatus(job.id, ['running']);
    const a = await workerThatStarted(workers, job.id);
    const b = workers.find((w) => w !== a)!;
    a.signal('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');

    const done = await h.waitForStatus(job.id, ['succeeded'], 30_000);
    expect(done.result).toEqual({ sleepMs: 3_000, echo: 'survivor' });
    expect(done.attempts).toBe(2);
    expect(linesFor(b, job.id, 'job succeeded')).toHaveLength(1);
    const events = await h.events(job.id);
    expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'running', 'succeeded']);
    expect(events.map((e) => e.data.attempt ?? null)).toEqual([null, 1, 2, 2]);
  });
});
