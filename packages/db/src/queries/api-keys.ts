import { generateApiKey, type Scope, uuidv7 } from '@conveyor/shared';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client';
import { type ApiKeyRow, apiKeys } from '../schema/index';

export interface CreatedApiKey {
  row: ApiKeyRow;
  /** The key in clear: returned once, never stored. */
  key: string;
}

export async function createApiKey(
  db: Db,
  params: { tenantId: string; name?: string | undefined; scopes: readonly Scope[] },
): Promise<CreatedApiKey> {
  const generated = generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: uuidv7(),
      tenantId: params.tenantId,
      name: params.name ?? null,
      prefix: generated.prefix,
      hash: generated.hash,
      scopes: [...params.scopes],
    })
    .returning();
  return { row: row!, key: generated.key };
}

/** Unrevoked keys with this prefix (usually one; the prefix has 32 bits, so collisions are possible). */
export function findActiveApiKeys(db: Db, prefix: string): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.prefix, prefix), isNull(apiKeys.revokedAt)));
}

/** Revokes a key; false when there is no such unrevoked key. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
