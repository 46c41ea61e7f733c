import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Producer } from './producer';

/** What `createBullBoard({ queues })` takes, without its callers importing bullmq or @bull-board/api's adapters. */
export type BoardQueue = BullMQAdapter;

/**
 * Bull Board adapters over the producer's own Queue objects (its Redis connection and key prefix), one per
 * queue name. `readOnly` hides retry/clean/promote buttons; jobs' truth is Postgres, so the board is for looking.
 */
export function boardQueues(
  producer: Pick<Producer, 'queue'>,
  names: readonly string[],
  options: { readOnly?: boolean } = {},
): BoardQueue[] {
  return names.map(
    (name) => new BullMQAdapter(producer.queue(name), { readOnlyMode: options.readOnly ?? true }),
  );
}
