import { type Db, deleteExpiredFiles } from '@conveyor/db';
import type { Producer } from '@conveyor/queue';
import type { Logger } from '@conveyor/shared';
import type { BlobStore } from '@conveyor/storage';
import { createPeriodicTask } from './periodic';

/** Removes expired uploads and artifacts (rows, then blobs), in batches, one worker at a time. */
export function createFileSweeper(deps: {
  db: Db;
  store: BlobStore;
  producer: Producer;
  prefix: string;
  log: Logger;
  intervalMs: number;
}) {
  async function sweepOnce(): Promise<number> {
    let removed = 0;
    for (;;) {
      const keys = await deleteExpiredFiles(deps.db, 500);
      for (const key of keys) await deps.store.delete(key);
      removed += keys.length;
      if (keys.length < 500) break;
    }
    if (removed) deps.log.info({ removed }, 'expired files removed');
    return removed;
  }
  const periodic = createPeriodicTask({
    name: 'file-sweeper',
    producer: deps.producer,
    lockKey: `${deps.prefix}:file-sweeper:lock`,
    intervalMs: deps.intervalMs,
    log: deps.log,
    task: sweepOnce,
  });
  return { sweepOnce, start: periodic.start, stop: periodic.stop };
}
