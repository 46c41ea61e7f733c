import { createLeaderLock, type Producer } from '@conveyor/queue';
import type { Logger } from '@conveyor/shared';

/**
 * Runs `task` every `intervalMs` in one worker process at a time (a lease in Redis under `lockKey`).
 * Skips a round while Redis is down; a failed round is logged and tried again next time.
 */
export function createPeriodicTask(options: {
  name: string;
  producer: Producer;
  lockKey: string;
  intervalMs: number;
  log: Logger;
  task: () => Promise<unknown>;
}) {
  const lock = createLeaderLock(options.producer.redis, options.lockKey);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  /** One round; false when Redis was not ready, so the next try comes soon rather than a full interval later. */
  async function tick(): Promise<boolean> {
    if (options.producer.redis.status !== 'ready') return false;
    try {
      if (await lock.tryAcquire(options.intervalMs * 3)) await options.task();
    } catch (error) {
      options.log.warn({ err: error, task: options.name }, 'periodic task failed; will try again');
    }
    return true;
  }

  return {
    start() {
      const loop = async () => {
        const round = tick();
        running = round;
        const ran = await round;
        if (!stopped) timer = setTimeout(loop, ran ? options.intervalMs : Math.min(options.intervalMs, 250));
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
