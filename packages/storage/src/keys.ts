import { randomUUID } from 'node:crypto';

/**
 * Storage keys come only from here: tenant / kind / (job) / random uuid. Never from a user-supplied name,
 * so no upload can choose where it lands or reach another tenant's files.
 */
export const uploadKey = (tenantId: string) => `${tenantId}/uploads/${randomUUID()}`;

export const artifactKey = (tenantId: string, jobId: string) => `${tenantId}/jobs/${jobId}/${randomUUID()}`;
