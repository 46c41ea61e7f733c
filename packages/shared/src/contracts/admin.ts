import { z } from 'zod';
import { SCOPES } from '../api-key';

export const createTenantRequest = z.object({ name: z.string().trim().min(1).max(200) }).strict();

export const createApiKeyRequest = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    scopes: z.array(z.enum(SCOPES)).min(1).optional(),
  })
  .strict();
