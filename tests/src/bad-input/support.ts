import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { jobs, uploads } from '@conveyor/db/schema';
import { queueNames } from '@conveyor/shared';
import { expect } from 'vitest';
import type { Harness } from '../helpers/harness';

/** Bodies sent without Content-Length, in chunks, the way a chunked request arrives. */
export function chunked(text: string | Uint8Array, chunkBytes = 16 * 1024): ReadableStream<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

/** The ids of what the API accepted (2xx) during a suite: the only rows and queue entries allowed to exist. */
export interface Accepted {
  jobs: Set<string>;
  uploads: Set<string>;
}

/**
 * Asserts invariant 6 on one answer: never a 5xx, and every 4xx is a problem+json with a code and the request
 * id. A success is recorded in `accepted` (a random body can be valid by chance) and its body released, so an
 * event stream does not stay open.
 */
export async function expectSafeAnswer(res: Response, what: string, accepted: Accepted): Promise<void> {
  expect(res.status, what).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body, what).toMatchObject({ status: res.status, code: expect.any(String) });
    expect(body.requestId, what).toBe(res.headers.get('x-request-id'));
    expect(String(body.requestId).length, what).toBeGreaterThan(0);
    return;
  }
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('application/json') && res.status >= 200 && res.status < 300) {
    const body = (await res.json()) as { id?: string; data?: { id?: string }[] };
    const path = new URL(res.url || 'http://x/').pathname;
    if (res.status === 202 && body.id) accepted.jobs.add(body.id);
    if (res.status === 202 && Array.isArray(body.data)) for (const j of body.data) accepted.jobs.add(j.id!);
    if (res.status === 201 && path.startsWith('/v1/uploads') && body.id) accepted.uploads.add(body.id);
    return;
  }
  await res.body?.cancel();
}

/** Asserts that Postgres and BullMQ hold exactly the jobs and uploads the API accepted, nothing else. */
export async function expectNothingElseStored(h: Harness, accepted: Accepted): Promise<void> {
  expect(await h.db.db.$count(jobs)).toBe(accepted.jobs.size);
  expect(await h.db.db.$count(uploads)).toBe(accepted.uploads.size);
  const keys = await h.producer.redis.keys(`${h.prefix}:*`);
  const queued = keys.filter((k) =>
    queueNames.some((q) => new RegExp(`^${escapeRegExp(h.prefix)}:${q}:[0-9a-f-]{36}$`).test(k)),
  );
  const queuedIds = queued.map((k) => k.slice(k.lastIndexOf(':') + 1)).sort();
  expect(queuedIds).toEqual([...accepted.jobs].sort());
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every file below `dir`, as paths relative to it. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}
