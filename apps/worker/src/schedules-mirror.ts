import { type Db, scanSchedules } from '@conveyor/db';
import type { ScheduleMirror } from '@conveyor/queue';

export interface MirrorRepair {
  /** Schedulers created or replaced (missing, or made for an older revision). */
  upserted: number;
  /** Schedulers removed (their schedule is deleted or paused). */
  removed: number;
}

/**
 * Makes the BullMQ job schedulers agree with the schedules in Postgres: every unpaused schedule has one,
 * made for its current revision; no other scheduler exists. This is what brings schedules back after Redis
 * lost its data, and what finishes an API write that could not reach Redis. Idempotent.
 */
export async function repairScheduleMirror(
  db: Db,
  mirror: ScheduleMirror,
  batchSize = 500,
): Promise<MirrorRepair> {
  const repair: MirrorRepair = { upserted: 0, removed: 0 };
  // Read before Postgres: a schedule created after this read is upserted by its own API write (or the
  // next pass); one deleted after it is removed here or by its own write.
  const held = await mirror.list();
  const known = new Set<string>();
  let afterId: string | undefined;
  for (;;) {
    const page = await scanSchedules(db, { afterId, limit: batchSize });
    for (const schedule of page) {
      known.add(schedule.id);
      if (schedule.paused) {
        if (held.has(schedule.id)) {
          await mirror.remove(schedule.id);
          repair.removed++;
        }
      } else if (held.get(schedule.id) !== schedule.revision) {
        await mirror.upsert(schedule);
        repair.upserted++;
      }
    }
    if (page.length < batchSize) break;
    afterId = page.at(-1)!.id;
  }
  for (const id of held.keys()) {
    if (known.has(id)) continue;
    await mirror.remove(id);
    repair.removed++;
  }
  return repair;
}
