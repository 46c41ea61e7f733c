import { pingDb } from '@conveyor/db';
import { maxmemoryPolicy, withTimeout } from '@conveyor/queue';
import { unavailable } from '@conveyor/shared';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { problemBody } from '../http/problem';

const CHECK_TIMEOUT_MS = 1_000;

/**
 * Liveness does no I/O; readiness checks Postgres and Redis, each within a second. Readiness also reports
 * Redis's `maxmemory-policy`: anything but `noeviction` lets Redis evict queue keys under memory pressure,
 * which is a deployment risk, not an outage, so the API stays ready and adds a warning.
 */
export function healthRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/live', (c) => c.json({ status: 'ok' }));

  app.get('/ready', async (c) => {
    const check = (p: Promise<unknown>, what: string) =>
      withTimeout(p, CHECK_TIMEOUT_MS, what).then(
        () => 'ok' as const,
        () => 'unavailable' as const,
      );
    const [postgres, redis] = await Promise.all([
      check(pingDb(deps.db), 'postgres'),
      check(deps.producer.ping(), 'redis'),
    ]);
    const checks = { postgres, redis };
    if (postgres === 'ok' && redis === 'ok') {
      const policy = await withTimeout(maxmemoryPolicy(deps.producer.redis), CHECK_TIMEOUT_MS, 'redis').catch(
        () => undefined,
      );
      const warnings =
        policy === undefined || policy === 'noeviction'
          ? []
          : [
              `Redis maxmemory-policy is ${policy}, not noeviction: under memory pressure Redis may evict queued jobs (the reconciler re-enqueues them from Postgres, late).`,
            ];
      return c.json({
        status: 'ok',
        checks,
        redisMaxmemoryPolicy: policy ?? 'unknown',
        ...(warnings.length ? { warnings } : {}),
      });
    }
    const down = Object.entries(checks)
      .filter(([, v]) => v !== 'ok')
      .map(([k]) => k);
    const problem = problemBody(
      unavailable(`Not ready: ${down.join(' and ')} unreachable.`),
      c.get('requestId'),
    );
    return c.body(JSON.stringify({ ...problem, checks }), 503, {
      'Content-Type': 'application/problem+json',
      'Retry-After': '5',
    });
  });

  return app;
}
