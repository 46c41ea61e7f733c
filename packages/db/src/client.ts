import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import * as schema from './schema/index';

export type Db = PostgresJsDatabase<typeof schema>;

/** The postgres.js client under a Db, for what drizzle cannot express (cursors); package-internal. */
export const driverOf = (db: Db): Sql => (db as Db & { $client: Sql }).$client;

export interface DbOptions {
  /** Pool size. Keep in-flight queries at or below it (see STACK.md: postgres.js slows once queries queue). Default 10. */
  max?: number;
  /** Shown in `pg_stat_activity`. */
  applicationName?: string;
  /** Seconds to wait for a connection before failing; default 5 so a dead server turns into a 503 fast. */
  connectTimeoutSeconds?: number;
  /** Server-side cap on one statement, in ms; default 30 000. */
  statementTimeoutMs?: number;
}

export interface DbHandle {
  db: Db;
  /** Closes the pool, letting running queries finish for up to 5 s. */
  close(): Promise<void>;
}

export function createDb(url: string, options: DbOptions = {}): DbHandle {
  const client = postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    // Seconds between reconnect attempts. postgres.js's default grows to 20 s, which turns a Postgres outage
    // into requests that hang ever longer instead of quick 503s; capped at 1 s they fail (and recover) fast.
    backoff: (retries: number) => Math.min(0.1 * 2 ** retries, 1),
    idle_timeout: 60,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? 'conveyor',
      statement_timeout: options.statementTimeoutMs ?? 30_000,
    },
  });
  return { db: drizzle(client, { schema }), close: () => client.end({ timeout: 5 }) };
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
  '53300', // too_many_connections
]);

/** True when an error means "Postgres cannot be reached right now" rather than "this query is wrong". */
export function isDbUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
