import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import type { AppProcess } from '../helpers/processes';
import { linesFor, startWorkerProcess } from '../helpers/worker-process';

/** Invariant 4: a worker killed mid-job leaves a job that another worker finishes. */
describe('a worker process killed with SIGKILL mid-job', () => {
  let h: Harness;
  const procs: AppProcess[] = [];

  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
    await h.close();
  });

  it('leaves the job to another worker, which finishes it and records succeeded', async () => {
    const a = await startWorkerProcess(h, 'worker-a');
    procs.push(a);
    const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 3_000, echo: 'survivor' } });
    await h.waitForStatus(job.id, ['running']);
    await a.waitForLine(new RegExp(`${job.id}.*job started`));

    const b = await startWorkerProcess(h, 'worker-b');
    procs.push(b);
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
