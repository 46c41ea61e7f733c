import { uuidv7 } from '@conveyor/shared';
import { and, asc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type ArtifactRow, artifacts, type UploadRow, uploads } from '../schema/index';

export async function insertUpload(
  db: Db,
  values: Omit<UploadRow, 'id' | 'createdAt'> & { id?: string },
): Promise<UploadRow> {
  const [row] = await db
    .insert(uploads)
    .values({ ...values, id: values.id ?? uuidv7() })
    .returning();
  return row!;
}

/** Tenant-scoped, and only while not expired. */
export async function findUpload(db: Db, tenantId: string, id: string): Promise<UploadRow | undefined> {
  const [row] = await db
    .select()
    .from(uploads)
    .where(and(eq(uploads.tenantId, tenantId), eq(uploads.id, id), sql`${uploads.expiresAt} > now()`));
  return row;
}

/**
 * Records a job's artifact. A retried attempt that writes the same name replaces the earlier row (and
 * gets its storage key back to delete the old blob), so retries never pile up duplicates.
 */
export async function upsertArtifact(
  db: Db,
  values: Omit<ArtifactRow, 'id' | 'createdAt'>,
): Promise<{ row: ArtifactRow; replacedKey: string | null }> {
  return db.transaction(async (tx) => {
    const [previous] = await tx
      .select({ storageKey: artifacts.storageKey })
      .from(artifacts)
      .where(and(eq(artifacts.jobId, values.jobId), eq(artifacts.name, values.name)))
      .for('update');
    const [row] = await tx
      .insert(artifacts)
      .values({ ...values, id: uuidv7() })
      .onConflictDoUpdate({
        target: [artifacts.jobId, artifacts.name],
        set: {
          contentType: values.contentType,
          bytes: values.bytes,
          sha256: values.sha256,
          storageKey: values.storageKey,
          metadata: values.metadata,
          expiresAt: values.expiresAt,
          createdAt: sql`now()`,
        },
      })
      .returning();
    return { row: row!, replacedKey: previous?.storageKey ?? null };
  });
}

export function listArtifacts(db: Db, tenantId: string, jobId: string): Promise<ArtifactRow[]> {
  return db
    .select()
    .from(artifacts)
    .where(
      and(eq(artifacts.tenantId, tenantId), eq(artifacts.jobId, jobId), sql`${artifacts.expiresAt} > now()`),
    )
    .orderBy(asc(artifacts.createdAt), asc(artifacts.name));
}

export async function findArtifact(db: Db, tenantId: string, id: string): Promise<ArtifactRow | undefined> {
  const [row] = await db
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.tenantId, tenantId), eq(artifacts.id, id), sql`${artifacts.expiresAt} > now()`));
  return row;
}

/**
 * Deletes up to `limit` expired uploads and artifacts and returns their storage keys, for the sweeper to
 * delete the blobs (rows first: a blob without a row is unreachable, a row without a blob would 500).
 */
export async function deleteExpiredFiles(db: Db, limit: number): Promise<string[]> {
  const now = new Date();
  const expiredUploads = db
    .select({ id: uploads.id })
    .from(uploads)
    .where(lt(uploads.expiresAt, now))
    .limit(limit);
  const expiredArtifacts = db
    .select({ id: artifacts.id })
    .from(artifacts)
    .where(lt(artifacts.expiresAt, now))
    .limit(limit);
  const goneUploads = await db
    .delete(uploads)
    .where(sql`${uploads.id} IN ${expiredUploads}`)
    .returning({ key: uploads.storageKey });
  const goneArtifacts = await db
    .delete(artifacts)
    .where(sql`${artifacts.id} IN ${expiredArtifacts}`)
    .returning({ key: artifacts.storageKey });
  return [...goneUploads, ...goneArtifacts].map((r) => r.key);
}
