import { countJobOutcome, type Producer } from '@conveyor/queue';

type Outcome = 'completed' | 'failed';

/**
 * The per-queue throughput counts behind GET /v1/queues, summed in process and written at most every
 * `windowMs` (one INCRBY per queue and outcome) instead of a Redis transaction per job. A statistic, not a
 * record: a count lost to a Redis outage or a crash is fine.
 */
export function createOutcomeCounter(producer: Producer, windowMs = 200) {
  const counts = new Map<string, { queue: string; outcome: Outcome; n: number }>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = Date.now();
    for (const { queue, outcome, n } of counts.values())
      countJobOutcome(producer.redis, producer.prefix, queue, outcome, now, n).catch(() => {});
    counts.clear();
  };
  return {
    count(queue: string, outcome: Outcome) {
      const key = `${queue}\u0000${outcome}`;
      const entry = counts.get(key);
      if (entry) entry.n++;
      else counts.set(key, { queue, outcome, n: 1 });
      timer ??= setTimeout(flush, windowMs);
    },
    /** Writes what is left now. */
    close() {
      clearTimeout(timer);
      flush();
    },
  };
}
