import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { fillPath, type Operation, operationsOf } from '../helpers/openapi-routes';
import { ADMIN_TOKEN } from './arbitraries';
import { type Accepted, chunked, expectNothingElseStored, expectSafeAnswer, filesUnder } from './support';

/**
 * Oversized bodies on every operation that takes one, announced by Content-Length and chunked without it:
 * 413 problem+json, never a 5xx, and nothing stored. JSON bodies are held to 1 MiB, uploads to 25 MiB.
 */

const JSON_LIMIT = 1024 * 1024;
const UPLOAD_LIMIT = 25 * 1024 * 1024;
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let h: Harness;
let withBody: Operation[];
const accepted: Accepted = { jobs: new Set(), uploads: new Set() };

beforeAll(async () => {
  h = await createHarness();
  withBody = (await operationsOf(h.app)).filter((o) => o.hasBody);
});

afterAll(async () => {
  await h?.close();
});

/** A body of `bytes` bytes: a PNG header then zeros for uploads, a JSON string for everything else. */
function oversized(op: Operation, bytes: number): { type: string; bytes: Uint8Array } {
  if (!op.bodyTypes.includes('application/json')) {
    const body = new Uint8Array(bytes);
    body.set(PNG_MAGIC);
    return { type: 'image/png', bytes: body };
  }
  const text = `{"type":"noop","payload":{"x":"${'x'.repeat(bytes - 32)}"}}`;
  return { type: 'application/json', bytes: new TextEncoder().encode(text) };
}

describe('oversized bodies', () => {
  it('answers 413 problem+json on every operation with a body, with and without Content-Length', async () => {
    expect(withBody.length).toBeGreaterThan(4);
    for (const op of withBody) {
      const limit = op.bodyTypes.includes('application/json') ? JSON_LIMIT : UPLOAD_LIMIT;
      const { type, bytes } = oversized(op, limit + 1);
      const authorization = `Bearer ${op.auth === 'admin' ? ADMIN_TOKEN : h.key}`;
      const path = fillPath(op, '01900000-0000-7000-8000-000000000000');
      for (const body of [bytes, chunked(bytes, 256 * 1024)]) {
        const res = await h.app.request(path, {
          method: op.method,
          headers: {
            authorization,
            'content-type': type,
            ...(body instanceof Uint8Array ? { 'content-length': String(body.length) } : {}),
          },
          body,
          duplex: 'half',
        } as RequestInit);
        const what = `${op.method} ${path} (${body instanceof Uint8Array ? 'Content-Length' : 'chunked'})`;
        expect(res.status, what).toBe(413);
        await expectSafeAnswer(res, what, accepted);
      }
    }
  }, 60_000);

  it('stored nothing', async () => {
    await expectNothingElseStored(h, accepted);
    expect(accepted.jobs.size + accepted.uploads.size).toBe(0);
    expect(filesUnder(h.storageDir)).toEqual([]);
  });
});
