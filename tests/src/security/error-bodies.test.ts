import { createApp } from '@conveyor/api';
import { createDb, type DbHandle } from '@conveyor/db';
import { createTestDatabase } from '@conveyor/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { type Operation, operationsOf } from '../helpers/openapi-routes';
import { ADMIN_TOKEN, plausibleRequest, randomId } from './fixtures';

/**
 * Error bodies never carry stack traces, SQL, driver names or hosts, even when the database fails under a
 * request: every route of the document against an app whose database was dropped, and one that cannot connect.
 */

const LEAKS = [
  /\bat /,
  /\n\s+at /,
  /select/i,
  /insert/i,
  /postgres/i,
  /127\.0\.0\.1/,
  /localhost/,
  /\.ts\b/,
  /Error:/,
];

let h: Harness;
let operations: Operation[];
const handles: DbHandle[] = [];

beforeAll(async () => {
  h = await createHarness();
  operations = await operationsOf(h.app);
});

afterAll(async () => {
  await Promise.all(handles.map((d) => d.close()));
  await h?.close();
});

type AppFactory = () => ReturnType<typeof createApp>;

async function expectNoLeaks(appFor: AppFactory, expectedStatus: number) {
  let failed = 0;
  for (const op of operations) {
    const app = appFor();
    const auth = op.auth === 'admin' ? ADMIN_TOKEN : h.key;
    const res = await app.request(await plausibleRequest(op, randomId(), `Bearer ${auth}`));
    const what = `${op.method} ${op.path}`;
    if (res.status < 400) {
      await res.body?.cancel();
      continue;
    }
    if (res.status === expectedStatus) failed++;
    expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
    const text = await res.text();
    // GET /health/ready names its checks ({"checks": {"postgres": "unavailable"}}): that is its documented
    // answer, so there only the name of the check may appear.
    const checked = op.path === '/health/ready' ? text.replace(/"postgres"|postgres unreachable/g, '') : text;
    for (const leak of LEAKS) expect(checked, `${what}: ${text}`).not.toMatch(leak);
    expect((JSON.parse(text) as { requestId?: string }).requestId, what).toBe(
      res.headers.get('x-request-id'),
    );
  }
  // Most routes touch the database, so most must have failed for the check to mean anything.
  expect(failed).toBeGreaterThan(operations.length / 2);
}

/** An app over `url`, on a pool of its own: postgres.js backs off between failed connects, per pool. */
function appOver(url: string): AppFactory {
  return () => {
    const handle = createDb(url, { max: 1, connectTimeoutSeconds: 1 });
    handles.push(handle);
    return createApp({
      db: handle.db,
      producer: h.producer,
      log: h.log,
      store: h.store,
      adminToken: ADMIN_TOKEN,
    });
  };
}

describe('error bodies when the database fails', () => {
  it('leak nothing when the database was dropped (500 internal)', async () => {
    const gone = await createTestDatabase();
    await gone.drop();
    await expectNoLeaks(appOver(gone.url), 500);
  });

  it('leak nothing when the database is unreachable (503 unavailable)', async () => {
    await expectNoLeaks(appOver('postgres://postgres@127.0.0.1:1/conveyor'), 503);
  });
});
