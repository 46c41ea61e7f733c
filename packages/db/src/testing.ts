import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDb, type DbHandle } from './client';
import { migrateDatabase } from './migrate';

export { openReportCursors, SEEDED_JOB_TYPES, seedJobs } from './test-factories';

export interface TestDatabase extends DbHandle {
  url: string;
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file, so files run in parallel without sharing rows.
 * The server comes from TEST_DATABASE_URL or DATABASE_URL (default local Postgres).
 */
export async function createTestDatabase(serverUrl = defaultServerUrl()): Promise<TestDatabase> {
  const name = `conveyor_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  const handle = createDb(url.toString(), { max: 10, applicationName: 'conveyor-test' });
  return {
    ...handle,
    url: url.toString(),
    name,
    async drop() {
      await handle.close();
      const admin = new URL(serverUrl);
      admin.pathname = '/postgres';
      const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}

function defaultServerUrl(): string {
  // Test helpers are not an app: they take the server from the environment the test runner was given.
  return (
    process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  );
}
