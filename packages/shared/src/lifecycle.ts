import type { Logger } from 'pino';

/** One line telling a user how to bring a dependency up, for start-up and readiness messages. */
export function dependencyHint(service: 'postgres' | 'redis', url: string): string {
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || (service === 'postgres' ? 5432 : 6379)}`;
  } catch {
    // keep the raw value
  }
  return service === 'postgres'
    ? `Postgres is unreachable at ${where}. Start it (pg_ctlcluster 15 main start, or docker compose up -d postgres) or set DATABASE_URL.`
    : `Redis is unreachable at ${where}. Start it (redis-server --daemonize yes, or docker compose up -d redis) or set REDIS_URL.`;
}

/**
 * SIGTERM/SIGINT run `shutdown` once; a second signal, or `deadlineMs` passing, forces exit(1).
 * `shutdown` should stop taking work, finish what is in flight and close connections in reverse order.
 */
export function onShutdownSignals(log: Logger, deadlineMs: number, shutdown: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, deadlineMs }, 'shutting down');
    setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown deadline passed: exiting');
      process.exit(1);
    }, deadlineMs).unref();
    shutdown().then(
      () => {
        log.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
