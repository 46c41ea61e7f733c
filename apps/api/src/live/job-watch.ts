import type { JobChange } from '@conveyor/queue';

/** Waits for one job's next change. Created before the job is read, so a change in between is not missed. */
export interface JobWatcher {
  /** Resolves true on a change, false when `timeoutMs` passes or `signal` aborts. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  close(): void;
}

export interface JobWatch {
  watchJob(jobId: string): JobWatcher;
  /** Calls `listener` for every change of the tenant's jobs; returns the unsubscribe function. */
  watchTenant(tenantId: string, listener: (change: JobChange) => void): () => void;
  close(): void;
}

interface Slot {
  pending: boolean;
  wake: (() => void) | null;
}

/**
 * Fans job changes from Redis pub/sub out to the requests of this API instance (long-polls, event
 * streams). Any instance serves any client: every instance hears every change.
 */
export function createJobWatch(
  subscribe: (onChange: (change: JobChange) => void) => { close(): void },
): JobWatch {
  const byJob = new Map<string, Set<Slot>>();
  const byTenant = new Map<string, Set<(change: JobChange) => void>>();

  const source = subscribe((change) => {
    for (const slot of byJob.get(change.jobId) ?? []) {
      slot.pending = true;
      slot.wake?.();
    }
    for (const listener of byTenant.get(change.tenantId) ?? []) listener(change);
  });

  return {
    watchJob(jobId) {
      const slot: Slot = { pending: false, wake: null };
      const slots = byJob.get(jobId) ?? new Set();
      slots.add(slot);
      byJob.set(jobId, slots);
      return {
        next(timeoutMs, signal) {
          if (slot.pending) {
            slot.pending = false;
            return Promise.resolve(true);
          }
          return new Promise<boolean>((resolve) => {
            const done = (changed: boolean) => {
              clearTimeout(timer);
              signal?.removeEventListener('abort', onAbort);
              slot.wake = null;
              slot.pending = false;
              resolve(changed);
            };
            const onAbort = () => done(false);
            const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
            slot.wake = () => done(true);
            signal?.addEventListener('abort', onAbort, { once: true });
          });
        },
        close() {
          slot.wake?.();
          slots.delete(slot);
          if (slots.size === 0) byJob.delete(jobId);
        },
      };
    },
    watchTenant(tenantId, listener) {
      const listeners = byTenant.get(tenantId) ?? new Set();
      listeners.add(listener);
      byTenant.set(tenantId, listeners);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) byTenant.delete(tenantId);
      };
    },
    close: () => source.close(),
  };
}

/** Without pub/sub (an embedding without Redis subscription): check again every half second. */
export const pollingWatcher = (): JobWatcher => ({
  next: (timeoutMs, signal) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), Math.min(500, Math.max(0, timeoutMs)));
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(false);
      });
    }),
  close: () => {},
});
