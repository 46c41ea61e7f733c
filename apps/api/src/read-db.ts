import type { Db } from '@conveyor/db';

/** The clients a read can use: the primary, and the replica of DATABASE_READ_URL when one is configured. */
export interface ReadClients {
  db: Db;
  readDb?: Db | undefined;
}

/**
 * The client of read-only queries whose answer may lag a little (lists): the replica when configured,
 * else the primary. Writes, and reads that must see the request's own writes, always use `deps.db`.
 */
export const readDbOf = (deps: ReadClients): Db => deps.readDb ?? deps.db;

/**
 * Runs a lookup on the replica and, when the replica has nothing, once more on the primary: a job created
 * moments ago may not have reached a lagging replica yet, and it must not be answered 404. Returns the
 * client that found it, so follow-up reads (its events, its artifacts) come from the same place.
 */
export async function findOnReplicaOrPrimary<T>(
  deps: ReadClients,
  lookup: (db: Db) => Promise<T | null | undefined>,
): Promise<{ found: T | null | undefined; db: Db }> {
  const replica = readDbOf(deps);
  const found = await lookup(replica);
  if (found != null || replica === deps.db) return { found, db: replica };
  return { found: await lookup(deps.db), db: deps.db };
}
