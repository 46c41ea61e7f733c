import { afterEach, beforeEach } from 'vitest';
import { createHarness, type Harness } from './harness';
import type { AppProcess } from './processes';
import { startWorkerProcess } from './worker-process';

/** What `useWorkerProcesses` gives a test: this test's harness, and worker processes ended after it. */
export interface WorkerProcesses {
  harness(): Harness;
  /** `startWorkerProcess` on this test's harness; the process is killed after the test. */
  startWorker(name: string, env?: Record<string, string>, startTimeoutMs?: number): Promise<AppProcess>;
}

/**
 * A fresh harness for each test of the enclosing `describe`, and real worker processes on it: after each
 * test every process it started is killed (SIGKILL if still running) and the harness is closed.
 */
export function useWorkerProcesses(): WorkerProcesses {
  let h: Harness | undefined;
  const procs: AppProcess[] = [];
  const harness = () => {
    if (!h) throw new Error('useWorkerProcesses: the harness exists only inside a test');
    return h;
  };

  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
    await h?.close();
    h = undefined;
  });

  return {
    harness,
    async startWorker(name, env, startTimeoutMs) {
      const worker = await startWorkerProcess(harness(), name, env, startTimeoutMs);
      procs.push(worker);
      return worker;
    },
  };
}
