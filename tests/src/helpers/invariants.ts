import { setTimeout as sleep } from 'node:timers/promises';
import { findJobsByIds, type JobEventRow, type JobRow, listJobEventsOfJobs } from '@conveyor/db';
import { JOB_STATUSES } from '@conveyor/shared';
import type { Harness } from './harness';

/** One HTTP answer the scenario's load generator got. */
export interface Answer {
  at: number;
  status: number;
  retryAfter: string | null;
  /** How long the request took, in ms. */
  ms: number;
}

/** Every HTTP answer of a scenario, and the ids of the jobs that got a `202`. */
export interface AnswerRecorder {
  answers: Answer[];
  accepted: string[];
  record(res: Response, startedAt?: number): void;
  /** Records the answer; on a 202 reads the job id from the body and counts it as accepted. */
  recordSubmit(res: Response, startedAt?: number): Promise<string | undefined>;
  /** A request that got no answer at all (connection refused, reset or timed out). */
  recordNoAnswer(): void;
  noAnswer: number;
}

export function createAnswerRecorder(): AnswerRecorder {
  const answers: Answer[] = [];
  const accepted: string[] = [];
  const recorder: AnswerRecorder = {
    answers,
    accepted,
    noAnswer: 0,
    record(res, startedAt = Date.now()) {
      const at = Date.now();
      answers.push({
        at,
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        ms: at - startedAt,
      });
    },
    async recordSubmit(res, startedAt) {
      recorder.record(res, startedAt);
      const body = (await res.json().catch(() => undefined)) as { id?: string } | undefined;
      if (res.status !== 202) return undefined;
      if (!body?.id) throw new Error('a 202 without a job id');
      accepted.push(body.id);
      return body.id;
    },
    recordNoAnswer() {
      recorder.noAnswer++;
    },
  };
  return recorder;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);
const STATUSES = new Set<string>(JOB_STATUSES);

/** The transitions the jobs trigger allows (packages/db/migrations/0001): anything else moved backwards. */
function isForward(from: string, to: string): boolean {
  if ((from === 'queued' || from === 'retrying') && to === 'running') return true;
  if (from === 'running' && (to === 'running' || to === 'retrying')) return true;
  if ((from === 'queued' || from === 'running' || from === 'retrying') && TERMINAL.has(to)) return true;
  return (from === 'failed' || from === 'canceled') && to === 'queued';
}

export interface InvariantReport {
  accepted: number;
  terminal: number;
  /** Still non-terminal only because their runAt is in the future. */
  waitingOnRunAt: number;
  /** Accepted but missing, or stuck non-terminal past the deadline: must be 0. */
  lost: number;
  lostIds: string[];
  /** Jobs whose handler was started more than once (more than one `running` event). */
  duplicates: number;
  /** `running` events beyond the first, over all jobs. */
  extraRuns: number;
  /** Event pairs that are not a legal forward transition: must be 0. */
  backwards: number;
  /** Answers with a 5xx status other than 503 with Retry-After: must be 0. */
  bad5xx: number;
  /** 503 answers (each with Retry-After). */
  unavailable: number;
  /** The slowest answer, in ms, and requests that got none. */
  slowestMs: number;
  noAnswer: number;
  byStatus: Record<string, number>;
  /** From `since` (the end of the fault) until the last job accepted before it was settled, in ms. */
  recoveryMs: number;
  /** From `since` until every accepted job was settled (includes work submitted after the fault), in ms. */
  drainMs: number;
}

export interface CheckOptions {
  answers?: AnswerRecorder;
  /** When the fault ended; recovery time is counted from here. Default: now. */
  since?: number;
  /** How long jobs may take to settle (lock + reconcile + the work left): past it they count as lost. */
  settleTimeoutMs?: number;
  /** Statuses that count as settled for this scenario (default: the terminal ones). */
  settled?: string[];
}

/**
 * Waits until every accepted job is settled (or legitimately waiting on its runAt), then reads the rows
 * and their job events and reports what a fault scenario must not break.
 */
export async function checkInvariants(
  h: Harness,
  acceptedIds: string[],
  opts: CheckOptions = {},
): Promise<InvariantReport> {
  const since = opts.since ?? Date.now();
  const deadline = Date.now() + (opts.settleTimeoutMs ?? 60_000);
  const settled = new Set(opts.settled ?? TERMINAL);
  const ids = [...new Set(acceptedIds)];
  const readRows = async () => {
    const rows: JobRow[] = [];
    for (let i = 0; i < ids.length; i += 500)
      rows.push(...(await findJobsByIds(h.db.db, h.tenantId, ids.slice(i, i + 500))));
    return rows;
  };
  const pending = (rows: JobRow[]) => {
    const now = Date.now();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.filter((id) => {
      const row = byId.get(id);
      if (!row) return true;
      if (settled.has(row.status)) return false;
      return !(row.status === 'queued' && row.runAt.getTime() > now);
    });
  };

  let rows = await readRows();
  while (pending(rows).length > 0 && Date.now() < deadline) {
    await sleep(200);
    rows = await readRows();
  }
  const drainMs = Date.now() - since;
  const lostIds = pending(rows);
  const now = Date.now();

  const events: JobEventRow[] = [];
  for (let i = 0; i < ids.length; i += 500)
    events.push(...(await listJobEventsOfJobs(h.db.db, h.tenantId, ids.slice(i, i + 500))));
  const timelines = new Map<string, JobEventRow[]>();
  for (const e of events) {
    // Marks that are not a status (`cancel_requested`) are not transitions.
    if (!STATUSES.has(e.type)) continue;
    const list = timelines.get(e.jobId) ?? [];
    list.push(e);
    timelines.set(e.jobId, list);
  }
  let backwards = 0;
  let duplicates = 0;
  let extraRuns = 0;
  for (const timeline of timelines.values()) {
    for (let i = 1; i < timeline.length; i++)
      if (!isForward(timeline[i - 1]!.type, timeline[i]!.type)) backwards++;
    const runs = timeline.filter((e) => e.type === 'running').length;
    if (runs > 1) {
      duplicates++;
      extraRuns += runs - 1;
    }
  }
  // The row must agree with the last event: a status written without its event would hide a move.
  for (const row of rows) {
    const last = timelines.get(row.id)?.at(-1);
    if (!last || last.type !== row.status) backwards++;
  }

  const byStatus: Record<string, number> = {};
  for (const row of rows) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
  const answers = opts.answers?.answers ?? [];
  return {
    accepted: ids.length,
    terminal: rows.filter((r) => TERMINAL.has(r.status)).length,
    waitingOnRunAt: rows.filter((r) => r.status === 'queued' && r.runAt.getTime() > now).length,
    lost: lostIds.length,
    lostIds,
    duplicates,
    extraRuns,
    backwards,
    bad5xx: answers.filter((a) => a.status >= 500 && !(a.status === 503 && a.retryAfter)).length,
    unavailable: answers.filter((a) => a.status === 503).length,
    slowestMs: Math.max(0, ...answers.map((a) => a.ms)),
    noAnswer: opts.answers?.noAnswer ?? 0,
    byStatus,
    recoveryMs: Math.max(
      0,
      ...rows
        .filter((r) => r.createdAt.getTime() <= since && r.finishedAt)
        .map((r) => r.finishedAt!.getTime() - since),
    ),
    drainMs,
  };
}

/** The one-line JSON summary each fault scenario prints for the closing note. */
export function logSummary(scenario: string, report: InvariantReport, extra: Record<string, unknown> = {}) {
  const { accepted: inFlight, lost, duplicates, recoveryMs, drainMs, backwards, bad5xx, byStatus } = report;
  console.log(
    JSON.stringify({
      scenario,
      inFlight,
      lost,
      duplicates,
      recoveryMs,
      drainMs,
      backwards,
      bad5xx,
      byStatus,
      ...extra,
    }),
  );
}
