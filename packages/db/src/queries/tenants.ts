import { uuidv7 } from '@conveyor/shared';
import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import { type TenantRow, tenants } from '../schema/index';

export async function createTenant(db: Db, name: string): Promise<TenantRow> {
  const [row] = await db.insert(tenants).values({ id: uuidv7(), name }).returning();
  return row!;
}

export async function findTenant(db: Db, id: string): Promise<TenantRow | undefined> {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, id));
  return row;
}

/** A tenant's own limits; null means the deployment's default applies, 0 means unlimited. */
export interface TenantLimits {
  rateLimit: number | null;
  maxActiveJobs: number | null;
}

/** The tenant's limits, or undefined when there is no such tenant. */
export async function findTenantLimits(db: Db, id: string): Promise<TenantLimits | undefined> {
  const [row] = await db
    .select({ rateLimit: tenants.rateLimit, maxActiveJobs: tenants.maxActiveJobs })
    .from(tenants)
    .where(eq(tenants.id, id));
  return row;
}

/** Sets the limits given (undefined leaves one as it is, null resets it); undefined when there is no such tenant. */
export async function updateTenantLimits(
  db: Db,
  id: string,
  limits: Partial<TenantLimits>,
): Promise<TenantRow | undefined> {
  const set: Partial<TenantLimits> = {};
  if (limits.rateLimit !== undefined) set.rateLimit = limits.rateLimit;
  if (limits.maxActiveJobs !== undefined) set.maxActiveJobs = limits.maxActiveJobs;
  if (Object.keys(set).length === 0) return findTenant(db, id);
  const [row] = await db.update(tenants).set(set).where(eq(tenants.id, id)).returning();
  return row;
}
