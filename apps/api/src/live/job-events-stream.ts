import { findJob, listJobEvents } from '@conveyor/db';
import { invalidParameter, isTerminal, type JobStatus, TERMINAL_STATUSES } from '@conveyor/shared';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppDeps, AppEnv } from '../deps';
import { pollingWatcher } from './job-watch';

/** Comment lines keep idle connections open through proxies and load balancers. */
export const HEARTBEAT_MS = 15_000;

export const wantsEventStream = (c: Context) => (c.req.header('accept') ?? '').includes('text/event-stream');

function lastEventId(c: Context): number {
  const raw = c.req.header('last-event-id');
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw)) throw invalidParameter('Last-Event-ID must be an event id this stream sent.');
  return Number(raw);
}

/**
 * Streams a job's timeline as server-sent events: what happened after Last-Event-ID first, then each new
 * event as it is recorded; the stream ends after the terminal event. Woken by Redis fan-out, read from
 * Postgres, so a missed notice only delays an event, never loses it.
 */
export function streamJobEvents(c: Context<AppEnv>, deps: AppDeps, tenantId: string, jobId: string) {
  let after = lastEventId(c);
  return streamSSE(c, async (stream) => {
    const watcher = deps.watch?.watchJob(jobId) ?? pollingWatcher();
    const abort = new AbortController();
    stream.onAbort(() => abort.abort());
    try {
      while (!abort.signal.aborted) {
        const events = await listJobEvents(deps.db, tenantId, jobId, after);
        for (const e of events) {
          await stream.writeSSE({
            id: String(e.id),
            event: e.type,
            data: JSON.stringify({ at: e.at.toISOString(), type: e.type, data: e.data }),
          });
          after = e.id;
        }
        const last = events.at(-1)?.type;
        if (last && TERMINAL_STATUSES.includes(last as JobStatus)) return;
        if (!last) {
          // Resumed after the end: nothing new and nothing more to come.
          const job = await findJob(deps.db, tenantId, jobId);
          if (!job || isTerminal(job.status)) return;
        }
        if (!(await watcher.next(HEARTBEAT_MS, abort.signal)) && !abort.signal.aborted) {
          await stream.write(': keep-alive\n\n');
        }
      }
    } finally {
      watcher.close();
    }
  });
}
