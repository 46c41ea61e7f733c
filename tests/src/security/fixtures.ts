import { upsertArtifact } from '@conveyor/db';
import { type JobView, uuidv7 } from '@conveyor/shared';
import { artifactKey } from '@conveyor/storage';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { Harness } from '../helpers/harness';
import { fillPath, type Operation } from '../helpers/openapi-routes';

/** A tenant's resources, one of each kind an id-taking route can name. */
export interface TenantResources {
  tenantId: string;
  key: string;
  jobId: string;
  uploadId: string;
  artifactId: string;
  scheduleId: string;
}

/** A schedule body that passes validation, so on a schedule route the id alone decides the answer. */
export const SCHEDULE_BODY = '{"cron":"0 0 1 1 *","template":{"type":"noop"}}';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export const onePixelPng = () =>
  sharp({ create: { width: 1, height: 1, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();

/** A job (through the API), an upload (through the API) and an artifact (stored the way a worker stores one). */
export async function makeResources(h: Harness, tenant: { tenantId: string; key: string }) {
  const submitted = await h.request('POST', '/v1/jobs', { body: { type: 'noop' }, key: tenant.key });
  expect(submitted.status).toBe(202);
  const job = (await submitted.json()) as JobView;
  const uploaded = await h.app.request('/v1/uploads', {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'image/png' },
    body: await onePixelPng(),
  });
  expect(uploaded.status).toBe(201);
  const upload = (await uploaded.json()) as { id: string };
  const storageKey = artifactKey(tenant.tenantId, job.id);
  const blob = await h.store.put(storageKey, new TextEncoder().encode(`secret report of ${tenant.tenantId}`));
  const { row } = await upsertArtifact(h.db.db, {
    tenantId: tenant.tenantId,
    jobId: job.id,
    name: 'report.csv',
    contentType: 'text/csv',
    bytes: blob.bytes,
    sha256: blob.sha256,
    storageKey,
    metadata: {},
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  const scheduled = await h.request('POST', '/v1/schedules', { body: SCHEDULE_BODY, key: tenant.key });
  expect(scheduled.status).toBe(201);
  const schedule = (await scheduled.json()) as { id: string };
  return {
    ...tenant,
    jobId: job.id,
    uploadId: upload.id,
    artifactId: row.id,
    scheduleId: schedule.id,
  } satisfies TenantResources;
}

/** A request body an operation would take, so the id is what decides the answer; uploads get a real PNG. */
export async function plausibleRequest(op: Operation, id: string, authorization: string) {
  const headers: Record<string, string> = { authorization };
  let body: string | Uint8Array | undefined;
  if (op.hasBody && op.bodyTypes.includes('application/json')) {
    headers['content-type'] = 'application/json';
    body = op.path.includes('/admin/')
      ? '{"name":"x"}'
      : op.path.startsWith('/v1/schedules')
        ? SCHEDULE_BODY
        : '{"type":"noop"}';
  } else if (op.hasBody) {
    headers['content-type'] = 'image/png';
    body = await onePixelPng();
  }
  return new Request(`http://localhost${fillPath(op, id)}`, {
    method: op.method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
}

/** Status and problem body without its per-request id, for comparing two answers byte for byte. */
export async function comparable(res: Response) {
  const text = await res.text();
  const requestId = res.headers.get('x-request-id') ?? '';
  return { status: res.status, body: requestId ? text.split(requestId).join('<request-id>') : text };
}

export const randomId = () => uuidv7();

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
