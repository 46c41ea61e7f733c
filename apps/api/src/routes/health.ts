import { pingDb } from '@conveyor/db';
import { withTimeout } from '@conveyor/queue';
import { unavailable } from '@conveyor/shared';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { problemBody } from '../http/problem';

const CHECK_TIMEOUT_MS = 1_000;

/** Liveness does no I/O; readiness checks Postgres and Redis, each within a second. */
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
    if (postgres === 'ok' && redis === 'ok') return c.json({ status: 'ok', checks });
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
