import { ConfigError } from '@conveyor/shared';
import { isDbUnavailable } from '../client';

/** Where a user's database lives, without its password. */
export function describeDatabase(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/**
 * Runs a CLI body and turns the failures a user can fix into one readable line (no stack trace):
 * a bad setting, or Postgres not running.
 */
export async function runCli(databaseUrl: () => string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
    } else if (isDbUnavailable(error)) {
      console.error(
        `Cannot reach Postgres at ${describeDatabase(databaseUrl())} (${(error as { code?: string }).code}).\n` +
          'Start it (e.g. `pg_ctlcluster 15 main start`, or `docker compose up -d postgres`) or set DATABASE_URL.',
      );
    } else {
      console.error(error);
    }
    process.exitCode = 1;
  }
}
