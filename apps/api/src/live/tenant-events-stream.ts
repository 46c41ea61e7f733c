import type { JobChange } from '@conveyor/queue';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppDeps, AppEnv } from '../deps';
import { HEARTBEAT_MS } from './job-events-stream';

/**
 * GET /v1/events: every change of the tenant's jobs as it happens (`event: job`, data
 * `{jobId, type, status}`), optionally only some types and statuses. Live only: no replay.
 */
export function streamTenantEvents(
  c: Context<AppEnv>,
  deps: AppDeps,
  tenantId: string,
  filter: { types?: string[] | undefined; statuses?: string[] | undefined },
) {
  return streamSSE(c, async (stream) => {
    const queue: JobChange[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = deps.watch?.watchTenant(tenantId, (change) => {
      if (filter.types && !filter.types.includes(change.type)) return;
      if (filter.statuses && !filter.statuses.includes(change.status)) return;
      queue.push(change);
      wake?.();
    });
    let open = true;
    stream.onAbort(() => {
      open = false;
      wake?.();
    });
    try {
      await stream.write(': connected\n\n');
      while (open) {
        while (queue.length) {
          const change = queue.shift()!;
          await stream.writeSSE({
            event: 'job',
            data: JSON.stringify({ jobId: change.jobId, type: change.type, status: change.status }),
          });
        }
        const woke = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), HEARTBEAT_MS);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = null;
        if (!woke && open) await stream.write(': keep-alive\n\n');
      }
    } finally {
      unsubscribe?.();
    }
  });
}
