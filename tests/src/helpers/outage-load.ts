import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from './harness';
import { type Answer, type AnswerRecorder, createAnswerRecorder } from './invariants';
import { httpSubmit, startLoad } from './load';
import { waitFor } from './wait';

export interface OutageRun {
  answers: AnswerRecorder;
  cutAt: number;
  restoredAt: number;
  /** Answers that came during the outage (from 0.5 s after the cut until the restore). */
  during: Answer[];
}

/**
 * The outage scenario over HTTP: 400 noop submits (100–500 ms each), 3 at a time; once 120 are accepted the
 * outage starts (`cut`), lasts `ms` (default 10 s) and ends (`restore`); resolves after the last submit.
 * `afterCut` runs right after the cut (inside the outage). The outage is ended whatever happens.
 */
export async function submitAcrossOutage(
  h: Harness,
  base: string,
  outage: {
    cut(): Promise<unknown>;
    restore(): Promise<unknown>;
    ms?: number;
    afterCut?: (answers: AnswerRecorder) => Promise<void>;
  },
): Promise<OutageRun> {
  const answers = createAnswerRecorder();
  const body = (i: number) => ({ type: 'noop', payload: { sleepMs: 100 + ((i * 37) % 400), echo: i } });
  const load = startLoad(httpSubmit(base, h.key), answers, { total: 400, concurrency: 3, pauseMs: 40, body });
  try {
    await waitFor('jobs in flight', () => answers.accepted.length >= 120, 60_000, 20);
    await outage.cut();
    const cutAt = Date.now();
    await outage.afterCut?.(answers);
    await sleep(Math.max(0, (outage.ms ?? 10_000) - (Date.now() - cutAt)));
    await outage.restore();
    const restoredAt = Date.now();
    await load.done;
    const during = answers.answers.filter((a) => a.at > cutAt + 500 && a.at < restoredAt);
    return { answers, cutAt, restoredAt, during };
  } finally {
    await outage.restore();
    await load.stop();
  }
}
