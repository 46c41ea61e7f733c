/** Test-only helpers for the db package's integration tests: row factories and error inspection. */
import { randomBytes } from 'node:crypto';
import { uuidv7 } from '@conveyor/shared';
import type { NewJobRow } from './schema/index';

/** A queued `noop` job row for `tenantId`; any column can be overridden. */
export function newJob(tenantId: string, overrides: Partial<NewJobRow> = {}): NewJobRow {
  const now = new Date();
  return {
    id: uuidv7(),
    tenantId,
    type: 'noop',
    queue: 'default',
    status: 'queued',
    payload: {},
    maxAttempts: 3,
    timeoutMs: 120_000,
    runAt: now,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/**
 * A UUIDv7 for an exact millisecond. Unlike uuidv7(now), it ignores the process-wide monotonic state, which
 * would move an id for a past millisecond forward to the latest one handed out.
 */
export function uuidv7At(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The SQLSTATE of a Postgres error, looked for through drizzle's DrizzleQueryError wrapper. */
export function pgErrorOf(error: unknown): { code?: string; message?: string } | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return e as { code: string; message: string };
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Awaits `promise`, expecting it to reject, and returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}
