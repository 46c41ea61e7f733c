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
