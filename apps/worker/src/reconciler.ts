import { type ActiveJobRef, type Db, scanQuietActiveJobs, settleFromQueue } from '@conveyor/db';
import {
  createScheduleMirror,
  type EnqueueRef,
  enqueueRefOf,
  type Producer,
  reconcilerLockKey,
} from '@conveyor/queue';
import type { JobStatus, Logger } from '@conveyor/shared';
import { createPeriodicTask } from './periodic';
import { repairScheduleMirror } from './schedules-mirror';

export interface ReconcilerDeps {
  db: Db;
  producer: Producer;
  prefix: string;
  log: Logger;
  /** Pause between passes, in ms. */
  intervalMs: number;
  /** Rows changed more recently than this are left alone (the API may be enqueueing them right now), in ms. */
  graceMs: number;
  /** Rows read per page. */
  batchSize?: number;
  /** Counts what each pass repaired; default none. */
  metrics?: ReconcilerMetrics;
  /** Told of every outcome a pass writes (webhook delivery); fire-and-forget. */
  onSettled?: (job: { id: string; tenantId: string; generation: number; status: JobStatus }) => void;
  /** Runs after each pass: enqueues webhooks whose enqueue was lost (webhooks/recovery.ts). */
  recoverWebhooks?: () => Promise<number>;
}

export interface ReconcilerMetrics {
  passCompleted(report: ReconcileReport): void;
}

export interface ReconcileReport {
  checked: number;
  enqueued: number;
  settled: number;
}

const toRef = (row: ActiveJobRef): EnqueueRef => enqueueRefOf(row);

/**
 * Makes Redis agree with Postgres, the record: every non-terminal job that BullMQ does not hold is
 * enqueued again (keeping its runAt), and an outcome BullMQ holds but Postgres missed is written.
 * One process at a time does it (a lease in Redis); every pass is idempotent.
 */
export function createReconciler(deps: ReconcilerDeps) {
  const batchSize = deps.batchSize ?? 500;
  const scheduleMirror = createScheduleMirror(deps.producer);

  async function reconcileRow(
    row: ActiveJobRef,
    held: { generation: number; finished: boolean } | undefined,
  ) {
    if (!held) return 'enqueue' as const;
    if (held.generation !== row.generation) return held.finished ? ('replace' as const) : ('wait' as const);
    if (!held.finished) return 'wait' as const;
    const snap = await deps.producer.snapshot(row.queue, row.id);
    if (!snap || snap.state === 'pending') return 'wait' as const;
    const value = snap.returnValue as { result?: unknown; skipped?: string } | null;
    if (snap.state === 'completed' && value && 'skipped' in value) return 'replace' as const;
    const ref = { id: row.id, generation: row.generation };
    // A canceled attempt ends in BullMQ's failed set; the cancel request on the row says what it was.
    const status = snap.state === 'completed' ? 'succeeded' : row.cancelRequestedAt ? 'canceled' : 'failed';
    // Inside the read-cache guard, so no API read is served the cached pre-settle view after the commit.
    const settled = await deps.producer.jobCache.guard(row.id, () =>
      status === 'succeeded'
        ? settleFromQueue(deps.db, { ...ref, status, result: value?.result })
        : status === 'canceled'
          ? settleFromQueue(deps.db, { ...ref, status })
          : settleFromQueue(deps.db, {
              ...ref,
              status,
              error: { code: 'failed', message: snap.failedReason ?? 'The job failed.' },
            }),
    );
    if (!settled) return 'wait' as const;
    deps.producer.publishChange({ tenantId: row.tenantId, jobId: row.id, type: row.type, status });
    deps.onSettled?.({ id: row.id, tenantId: row.tenantId, generation: row.generation, status });
    return 'settled' as const;
  }

  async function reconcileOnce(): Promise<ReconcileReport> {
    const report: ReconcileReport = { checked: 0, enqueued: 0, settled: 0 };
    const untouchedSince = new Date(Date.now() - deps.graceMs);
    let afterId: string | undefined;
    for (;;) {
      const rows = await scanQuietActiveJobs(deps.db, { untouchedSince, afterId, limit: batchSize });
      if (rows.length === 0) break;
      afterId = rows.at(-1)!.id;
      report.checked += rows.length;
      const byQueue = new Map<string, ActiveJobRef[]>();
      for (const row of rows) byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row]);
      for (const [queue, group] of byQueue) {
        const held = await deps.producer.inspect(
          queue,
          group.map((r) => r.id),
        );
        const missing: EnqueueRef[] = [];
        for (const row of group) {
          const action = await reconcileRow(row, held.get(row.id));
          if (action === 'enqueue') missing.push(toRef(row));
          else if (action === 'replace') {
            await deps.producer.replace(toRef(row));
            report.enqueued++;
          } else if (action === 'settled') report.settled++;
        }
        if (missing.length) {
          await deps.producer.enqueueMany(missing);
          report.enqueued += missing.length;
        }
      }
      if (rows.length < batchSize) break;
    }
    // Schedules: every active one has its BullMQ job scheduler again after Redis lost it (flush, restart).
    const schedulers = await repairScheduleMirror(deps.db, scheduleMirror, batchSize);
    if (schedulers.upserted || schedulers.removed)
      deps.log.info(schedulers, 'reconciler repaired schedulers');
    await deps.recoverWebhooks?.();
    deps.metrics?.passCompleted(report);
    if (report.enqueued || report.settled) deps.log.info(report, 'reconciler repaired jobs');
    return report;
  }

  const periodic = createPeriodicTask({
    name: 'reconciler',
    producer: deps.producer,
    lockKey: reconcilerLockKey(deps.prefix),
    intervalMs: deps.intervalMs,
    log: deps.log,
    task: reconcileOnce,
  });

  return { reconcileOnce, start: periodic.start, stop: periodic.stop };
}
