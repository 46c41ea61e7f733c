import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDatabase, MIGRATIONS_DIR, migrateDatabase } from './migrate';

/** Every migration drizzle-kit has generated (its journal), so a new one needs no edit here. */
const MIGRATION_COUNT = (
  JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }
).entries.length;

const serverUrl =
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const names: string[] = [];
let admin: postgres.Sql;

/** A URL naming a database that does not exist yet; dropped after the file. */
function freshDatabaseUrl(): { url: string; name: string } {
  const name = `conveyor_migrate_${process.pid}_${randomBytes(4).toString('hex')}`;
  names.push(name);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

beforeAll(() => {
  const url = new URL(serverUrl);
  url.pathname = '/postgres';
  admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  for (const name of names) await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end({ timeout: 5 });
});

const databaseExists = async (name: string) =>
  (await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`).length === 1;

/** What the migrations left behind: applied migrations, tables, the trigger. */
async function describeDatabase(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const migrations = await sql<
      { hash: string }[]
    >`SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id`;
    const tables = await sql<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
    const triggers = await sql<{ tgname: string }[]>`
      SELECT tgname FROM pg_trigger WHERE tgrelid = 'jobs'::regclass AND NOT tgisinternal`;
    return {
      migrations: migrations.map((m) => m.hash),
      tables: tables.map((t) => t.table_name),
      triggers: triggers.map((t) => t.tgname),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe('migrateDatabase', () => {
  it('creates a missing database, applies every migration, and is idempotent on a second run', async () => {
    const { url, name } = freshDatabaseUrl();
    expect(await databaseExists(name)).toBe(false);

    await migrateDatabase(url);
    expect(await databaseExists(name)).toBe(true);
    const first = await describeDatabase(url);
    expect(first.tables).toEqual([
      'api_keys',
      'artifacts',
      'disabled_webhook_endpoints',
      'job_events',
      'jobs',
      'schedules',
      'tenants',
      'uploads',
      'webhook_deliveries',
    ]);
    expect([...first.triggers].sort()).toEqual(['jobs_bump_version', 'jobs_record_event']);
    expect(first.migrations).toHaveLength(MIGRATION_COUNT);

    await migrateDatabase(url);
    expect(await describeDatabase(url)).toEqual(first);
  });

  it('lets two processes migrate a new database at the same time', async () => {
    const { url, name } = freshDatabaseUrl();
    // Both check pg_database, find nothing, and CREATE DATABASE; the loser's error must be absorbed.
    const outcomes = await Promise.allSettled([migrateDatabase(url), migrateDatabase(url)]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : o.status))).toEqual([
      'fulfilled',
      'fulfilled',
    ]);
    expect(await databaseExists(name)).toBe(true);
    expect((await describeDatabase(url)).migrations).toHaveLength(MIGRATION_COUNT);
  });
});

describe('ensureDatabase', () => {
  it('reports whether it created the database', async () => {
    const { url } = freshDatabaseUrl();
    expect(await ensureDatabase(url)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
  });

  it('refuses a URL that names no database', async () => {
    const url = new URL(serverUrl);
    url.pathname = '/';
    await expect(ensureDatabase(url.toString())).rejects.toThrow('DATABASE_URL names no database');
  });
});
