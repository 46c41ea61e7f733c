import { z } from 'zod';
import { SCOPES } from '../api-key';

export const createTenantRequest = z.object({ name: z.string().trim().min(1).max(200) }).strict();

export const createApiKeyRequest = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    scopes: z.array(z.enum(SCOPES)).min(1).optional(),
  })
  .strict();

/**
 * PATCH /v1/admin/tenants/{id}: the tenant's own limits. A field left out stays as it is; null returns it to
 * the deployment's default (RATE_LIMIT_POINTS, TENANT_MAX_ACTIVE_JOBS); 0 means unlimited.
 */
export const updateTenantLimitsRequest = z
  .object({
    /** Requests per rate-limit window for each of the tenant's API keys. */
    rateLimit: z.number().int().min(0).max(1_000_000).nullable().optional(),
    /** Most unfinished (queued, running, retrying) jobs at once. */
    maxActiveJobs: z.number().int().min(0).max(100_000_000).nullable().optional(),
  })
  .strict();
