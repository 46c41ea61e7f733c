import { uuidv7 } from '@conveyor/shared';
import { and, asc, eq, gt, gte, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import {
  disabledWebhookEndpoints,
  type JobRow,
  jobEvents,
  jobs,
  tenants,
  type WebhookDeliveryRow,
  webhookDeliveries,
} from '../schema/index';

/**
 * Webhooks: the tenant's endpoint and secrets, the per-attempt delivery log, endpoints disabled by a
 * `410 Gone`, and the scan that finds terminal jobs whose message was never settled (lost enqueue).
 */

export interface WebhookSettingsRow {
  url: string | null;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  disabledEndpoints: { url: string; reason: string; disabledAt: Date }[];
}

const settingsColumns = {
  url: tenants.webhookUrl,
  secret: tenants.webhookSecret,
  previousSecret: tenants.webhookPreviousSecret,
  previousSecretExpiresAt: tenants.webhookPreviousSecretExpiresAt,
};

async function withDisabled(
  db: Db,
  tenantId: string,
  row: Omit<WebhookSettingsRow, 'disabledEndpoints' | 'secret'> & { secret: string | null },
): Promise<WebhookSettingsRow> {
  const disabled = await db
    .select({
      url: disabledWebhookEndpoints.url,
      reason: disabledWebhookEndpoints.reason,
      disabledAt: disabledWebhookEndpoints.disabledAt,
    })
    .from(disabledWebhookEndpoints)
    .where(eq(disabledWebhookEndpoints.tenantId, tenantId))
    .orderBy(asc(disabledWebhookEndpoints.disabledAt));
  return { ...row, secret: row.secret!, disabledEndpoints: disabled };
}

/**
 * The tenant's webhook settings; a tenant without a secret gets `newSecret` (kept only if none was stored
 * meanwhile, so two first reads agree on one secret). Undefined when there is no such tenant.
 */
export async function readWebhookSettings(
  db: Db,
  tenantId: string,
  newSecret: string,
): Promise<WebhookSettingsRow | undefined> {
  const [row] = await db
    .update(tenants)
    .set({ webhookSecret: sql`coalesce(${tenants.webhookSecret}, ${newSecret})` })
    .where(eq(tenants.id, tenantId))
    .returning(settingsColumns);
  return row && withDisabled(db, tenantId, row);
}

/** Sets (or with null removes) the default endpoint; setting a URL also re-enables it if a 410 disabled it. */
export async function setWebhookUrl(
  db: Db,
  tenantId: string,
  url: string | null,
  newSecret: string,
): Promise<WebhookSettingsRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(tenants)
      .set({ webhookUrl: url, webhookSecret: sql`coalesce(${tenants.webhookSecret}, ${newSecret})` })
      .where(eq(tenants.id, tenantId))
      .returning(settingsColumns);
    if (!row) return undefined;
    if (url !== null)
      await tx
        .delete(disabledWebhookEndpoints)
        .where(and(eq(disabledWebhookEndpoints.tenantId, tenantId), eq(disabledWebhookEndpoints.url, url)));
    return withDisabled(tx as unknown as Db, tenantId, row);
  });
}

/**
 * Makes `newSecret` current; the one it replaces keeps signing until `previousExpiresAt` (a tenant that had
 * no secret gets no previous one). A second rotation within the window drops the oldest secret.
 */
export async function rotateWebhookSecret(
  db: Db,
  tenantId: string,
  newSecret: string,
  previousExpiresAt: Date,
): Promise<WebhookSettingsRow | undefined> {
  const [row] = await db
    .update(tenants)
    .set({
      webhookPreviousSecret: sql`${tenants.webhookSecret}`,
      webhookPreviousSecretExpiresAt: sql`CASE WHEN ${tenants.webhookSecret} IS NULL THEN NULL ELSE ${previousExpiresAt.toISOString()}::timestamptz END`,
      webhookSecret: newSecret,
    })
    .where(eq(tenants.id, tenantId))
    .returning(settingsColumns);
  return row && withDisabled(db, tenantId, row);
}

/** The tenant's default endpoint (null when none or no such tenant): the worker's enqueue decision. */
export async function tenantWebhookUrl(db: Db, tenantId: string): Promise<string | null> {
  const [row] = await db.select({ url: tenants.webhookUrl }).from(tenants).where(eq(tenants.id, tenantId));
  return row?.url ?? null;
}

/** What one delivery attempt needs: the job now, the endpoint it resolves to, the secrets that sign. */
export interface WebhookMessageContext {
  job: JobRow;
  /** The job's own URL, else the tenant's default; null = nowhere to deliver. */
  url: string | null;
  /** Whether that URL answered `410 Gone` before and has not been set again since. */
  disabled: boolean;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  /** Attempts already logged for this message, and whether one of them settled it. */
  attempts: number;
  settled: boolean;
}

/** Loads a message's context in one read; `newSecret` is stored if the tenant has none yet. Undefined: no such job. */
export async function loadWebhookMessage(
  db: Db,
  params: { jobId: string; messageId: string; newSecret: string },
): Promise<WebhookMessageContext | undefined> {
  const target = sql<string | null>`coalesce(${jobs.webhookUrl}, ${tenants.webhookUrl})`;
  const [row] = await db
    .select({
      job: jobs,
      url: target,
      secret: tenants.webhookSecret,
      previousSecret: tenants.webhookPreviousSecret,
      previousSecretExpiresAt: tenants.webhookPreviousSecretExpiresAt,
      disabled: sql<boolean>`EXISTS (SELECT 1 FROM ${disabledWebhookEndpoints} x
        WHERE x.tenant_id = ${jobs.tenantId} AND x.url = ${target})`,
      attempts: sql<number>`(SELECT count(*)::int FROM ${webhookDeliveries} d
        WHERE d.job_id = ${jobs.id} AND d.message_id = ${params.messageId})`,
      settled: sql<boolean>`EXISTS (SELECT 1 FROM ${webhookDeliveries} d WHERE d.job_id = ${jobs.id}
        AND d.message_id = ${params.messageId} AND d.outcome IN ('delivered', 'disabled'))`,
    })
    .from(jobs)
    .innerJoin(tenants, eq(tenants.id, jobs.tenantId))
    .where(eq(jobs.id, params.jobId));
  if (!row) return undefined;
  let secret = row.secret;
  if (secret === null) {
    // Only the first delivery of a tenant that never read its settings writes here.
    const [made] = await db
      .update(tenants)
      .set({ webhookSecret: sql`coalesce(${tenants.webhookSecret}, ${params.newSecret})` })
      .where(eq(tenants.id, row.job.tenantId))
      .returning({ secret: tenants.webhookSecret });
    secret = made?.secret ?? params.newSecret;
  }
  return { ...row, secret };
}

export type NewWebhookDelivery = Omit<WebhookDeliveryRow, 'id' | 'createdAt'>;

export async function recordWebhookDelivery(db: Db, values: NewWebhookDelivery): Promise<void> {
  await db.insert(webhookDeliveries).values({ id: uuidv7(), ...values });
}

/** Stops deliveries to an endpoint until the tenant sets it again (PUT /v1/webhook-settings). */
export async function disableWebhookEndpoint(
  db: Db,
  params: { tenantId: string; url: string; reason: string },
): Promise<void> {
  await db.insert(disabledWebhookEndpoints).values(params).onConflictDoNothing();
}

/** A job's delivery log, oldest first, tenant-scoped. */
export function listWebhookDeliveries(
  db: Db,
  tenantId: string,
  jobId: string,
): Promise<WebhookDeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.jobId, jobId)))
    .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id));
}

/**
 * The id of the first job event written at or after `since` (binary search over the identity key, whose
 * order follows `at`; `job_events.at` has no index), or the next id to be written when there is none.
 */
export async function firstJobEventIdSince(db: Db, since: Date): Promise<number> {
  const [bounds] = await db
    .select({ min: sql<string | null>`min(${jobEvents.id})`, max: sql<string | null>`max(${jobEvents.id})` })
    .from(jobEvents);
  if (!bounds?.max) return 0;
  let lo = Number(bounds.min);
  let hi = Number(bounds.max) + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [event] = await db
      .select({ id: jobEvents.id, at: jobEvents.at })
      .from(jobEvents)
      .where(gte(jobEvents.id, mid))
      .orderBy(asc(jobEvents.id))
      .limit(1);
    if (!event) hi = mid;
    else if (event.at >= since) hi = mid;
    else lo = event.id + 1;
  }
  return lo;
}

/** A terminal job whose current message has no settling delivery: due for (re-)enqueue. */
export interface DueWebhook {
  jobId: string;
  tenantId: string;
  generation: number;
  status: 'succeeded' | 'failed' | 'canceled';
}

const TERMINAL = ['succeeded', 'failed', 'canceled'] as const;

/**
 * One step of the recovery scan: job events after `afterId` (up to `limit`, stopping at the first written
 * at or after `before`), and among their terminal ones the jobs still in that state, with an endpoint, whose
 * message has neither a settling delivery (`delivered`, `disabled`) nor `maxAttempts` logged attempts.
 * `lastId` is where the next step starts.
 */
export async function scanDueWebhooks(
  db: Db,
  params: { afterId: number; before: Date; limit: number; maxAttempts: number },
): Promise<{ lastId: number; scanned: number; due: DueWebhook[] }> {
  const page = await db
    .select({ id: jobEvents.id, jobId: jobEvents.jobId, type: jobEvents.type, at: jobEvents.at })
    .from(jobEvents)
    .where(gt(jobEvents.id, params.afterId))
    .orderBy(asc(jobEvents.id))
    .limit(params.limit);
  const quiet = page.slice(
    0,
    (() => {
      const i = page.findIndex((e) => e.at >= params.before);
      return i === -1 ? page.length : i;
    })(),
  );
  const lastId = quiet.at(-1)?.id ?? params.afterId;
  const ids = [
    ...new Set(quiet.filter((e) => (TERMINAL as readonly string[]).includes(e.type)).map((e) => e.jobId)),
  ];
  if (ids.length === 0) return { lastId, scanned: quiet.length, due: [] };
  const messageId = sql`'msg_' || ${jobs.id} || '_' || ${jobs.generation} || '_' || ${jobs.status}`;
  const due = await db
    .select({
      jobId: jobs.id,
      tenantId: jobs.tenantId,
      generation: jobs.generation,
      status: sql<DueWebhook['status']>`${jobs.status}`,
    })
    .from(jobs)
    .innerJoin(tenants, eq(tenants.id, jobs.tenantId))
    .where(
      and(
        inArray(jobs.id, ids),
        inArray(jobs.status, [...TERMINAL]),
        sql`coalesce(${jobs.webhookUrl}, ${tenants.webhookUrl}) IS NOT NULL`,
        sql`NOT EXISTS (SELECT 1 FROM ${webhookDeliveries} d WHERE d.job_id = ${jobs.id}
              AND d.message_id = ${messageId} AND d.outcome IN ('delivered', 'disabled'))`,
        sql`(SELECT count(*) FROM ${webhookDeliveries} d WHERE d.job_id = ${jobs.id}
              AND d.message_id = ${messageId}) < ${params.maxAttempts}`,
      ),
    );
  return { lastId, scanned: quiet.length, due };
}
