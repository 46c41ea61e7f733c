import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { fillPath, type Operation, operationsOf } from '../helpers/openapi-routes';
import * as gen from './arbitraries';
import { type Accepted, chunked, expectNothingElseStored, expectSafeAnswer, filesUnder } from './support';

/**
 * Invariant 6, property-based: every operation of the served OpenAPI document (so a new route is covered
 * without touching this file) gets random and malformed bodies, query strings, path ids and headers. Each
 * answer is below 500 and every 4xx is a complete problem; afterwards nothing but what was accepted exists.
 */

const RUNS_PER_OPERATION = Number(process.env.BAD_INPUT_RUNS ?? 50);
/** Per operation and property, in ms: keeps the file well under a minute on a busy 2-core machine. */
const TIME_PER_OPERATION_MS = Number(process.env.BAD_INPUT_MS_PER_OPERATION ?? 1_500);
const budget = { interruptAfterTimeLimit: TIME_PER_OPERATION_MS, markInterruptAsFailure: false };

let h: Harness;
let operations: Operation[];
const accepted: Accepted = { jobs: new Set(), uploads: new Set() };

beforeAll(async () => {
  h = await createHarness();
  operations = await operationsOf(h.app);
});

afterAll(async () => {
  await h?.close();
});

interface Input {
  id: string;
  query: string;
  headers: Record<string, string | undefined>;
  body: string;
  asChunks: boolean;
}

/** The request `input` makes for `op`, or null when the Fetch API itself refuses to build it. */
function requestFor(op: Operation, input: Input): Request | null {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) if (value !== undefined) headers[name] = value;
  if (headers.authorization === 'valid') headers.authorization = `Bearer ${h.key}`;
  if (headers.authorization === 'admin') headers.authorization = `Bearer ${gen.ADMIN_TOKEN}`;
  const withBody = op.method !== 'GET' && op.method !== 'HEAD';
  const body = withBody ? (input.asChunks ? chunked(input.body) : input.body) : undefined;
  try {
    return new Request(`http://localhost${fillPath(op, input.id)}${input.query}`, {
      method: op.method,
      headers,
      ...(body === undefined ? {} : { body, duplex: 'half' }),
    } as RequestInit);
  } catch {
    return null;
  }
}

const input = fc.record({
  id: gen.pathId,
  query: gen.queryString,
  headers: gen.headers,
  body: gen.body,
  asChunks: fc.boolean(),
});

describe('bad input on every operation of the OpenAPI document', () => {
  it('covers the whole document', () => {
    expect(operations.length).toBeGreaterThan(15);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['POST /v1/jobs', 'GET /v1/artifacts/{id}', 'POST /v1/uploads']),
    );
  });

  it('never answers 5xx, always a complete problem for a 4xx', async () => {
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(input, async (i) => {
          const req = requestFor(op, i);
          if (!req) return;
          const what = `${op.method} ${req.url}`;
          await expectSafeAnswer(await h.app.request(req), what, accepted);
        }),
        {
          numRuns: RUNS_PER_OPERATION,
          ...budget,
          seed: Number(process.env.BAD_INPUT_SEED ?? Date.now() % 2 ** 31),
        },
      );
    }
  }, 120_000);

  it('with a valid key and JSON media type, still never a 5xx for bodies that are not valid requests', async () => {
    const withBody = operations.filter((o) => o.hasBody);
    for (const op of withBody) {
      const auth = op.auth === 'admin' ? `Bearer ${gen.ADMIN_TOKEN}` : `Bearer ${h.key}`;
      const contentType = op.bodyTypes.includes('application/json') ? 'application/json' : 'image/png';
      await fc.assert(
        fc.asyncProperty(gen.pathId, gen.body, fc.boolean(), async (id, body, asChunks) => {
          const path = fillPath(op, id);
          const res = await h.app.request(path, {
            method: op.method,
            headers: { authorization: auth, 'content-type': contentType },
            body: asChunks ? chunked(body) : body,
            duplex: 'half',
          } as RequestInit);
          await expectSafeAnswer(res, `${op.method} ${path}`, accepted);
        }),
        { numRuns: RUNS_PER_OPERATION, ...budget },
      );
    }
  }, 120_000);

  it('persisted and enqueued nothing but what it accepted', async () => {
    await expectNothingElseStored(h, accepted);
    // No artifacts are made here: every file in storage is an accepted upload, and no rejected one is left.
    expect(filesUnder(h.storageDir)).toHaveLength(accepted.uploads.size);
  });
});
