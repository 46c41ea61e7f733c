import { queueNames } from '@conveyor/shared';
import { Hono } from 'hono';
import type { AppEnv } from '../deps';
import type { FleetReader } from '../metrics/fleet';
import type { createAuthenticator } from '../middleware/auth';

/**
 * `GET /v1/queues`: the deployment's fleet view (not tenant-scoped: counts cover every tenant's jobs).
 * Per queue: BullMQ's counts, the oldest waiting job's age, jobs finished in the last minute, and the
 * worker processes online (heartbeat younger than three of their intervals) that serve it.
 */
export function queueRoutes(fleet: FleetReader, requireScope: ReturnType<typeof createAuthenticator>) {
  const app = new Hono<AppEnv>();
  app.get('/', requireScope('jobs:read'), async (c) => {
    const [stats, workers, throughput] = await Promise.all([
      fleet.queues(queueNames),
      fleet.workers(),
      Promise.all(queueNames.map((q) => fleet.throughput(q))),
    ]);
    const data = stats.map((s, i) => {
      const serving = workers.filter((w) => w.queues.includes(s.queue));
      return {
        name: s.queue,
        counts: {
          waiting: s.waiting,
          active: s.active,
          delayed: s.delayed,
          failed: s.failed,
          completed: s.completed,
        },
        oldestWaitingAgeSeconds: Math.round(s.oldestWaitingAgeSeconds * 1_000) / 1_000,
        throughput: {
          completedLastMinute: throughput[i]!.completed,
          failedLastMinute: throughput[i]!.failed,
        },
        workersOnline: serving.length,
        workers: serving.map((w) => ({
          id: w.id,
          hostname: w.hostname,
          pid: w.pid,
          concurrency: w.concurrency[s.queue] ?? 1,
          active: w.active,
          startedAt: w.startedAt,
          lastSeen: w.lastSeen,
        })),
      };
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ data, workersOnline: workers.length });
  });
  return app;
}
