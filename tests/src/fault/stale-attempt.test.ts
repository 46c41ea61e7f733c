import { describe, expect, it } from 'vitest';
import { useWorkerProcesses } from '../helpers/use-worker-processes';
import { linesFor } from '../helpers/worker-process';

/** Invariant 3: a worker that lost its lock cannot overwrite the outcome of the attempt that replaced it. */
describe('a worker frozen past its lock (SIGSTOP) while another finishes the job', () => {
  const { harness, startWorker } = useWorkerProcesses();

  it("discards the frozen worker's late result and keeps it alive", async () => {
    const h = harness();
    const frozen = await startWorker('worker-frozen', { WORKER_LOCK_DURATION_MS: '1500' });
    const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 2_000 } });
    await frozen.waitForLine(new RegExp(`${job.id}.*job started`));
    frozen.signal('SIGSTOP');

    const rescuer = await startWorker('worker-rescuer');
    const done = await h.waitForStatus(job.id, ['succeeded'], 30_000);
    expect(done.attempts).toBe(2);
    const settled = await h.row(job.id);
    expect(settled.fence).toBe(2);

    frozen.signal('SIGCONT');
    // The frozen attempt wakes, finishes its handler, and tries to record its outcome with fence 1.
    await frozen.waitForLine(new RegExp(`${job.id}.*stale attempt`), 15_000);

    const after = await h.row(job.id);
    expect(after.status).toBe('succeeded');
    expect(after.fence).toBe(2);
    expect(after.updatedAt.getTime()).toBe(settled.updatedAt.getTime());
    const types = (await h.events(job.id)).map((e) => e.type);
    expect(types).toEqual(['queued', 'running', 'running', 'succeeded']);
    expect(linesFor(rescuer, job.id, 'job succeeded')).toHaveLength(1);
    expect(linesFor(frozen, job.id, 'job succeeded')).toHaveLength(0);
    // It did not crash: still running, still serving.
    expect(frozen.child.exitCode).toBeNull();
    const next = await h.submit({ type: 'noop', payload: {} });
    await h.waitForStatus(next.job.id, ['succeeded']);
  });
});
