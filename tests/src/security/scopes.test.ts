import { jobs, uploads } from '@conveyor/db/schema';
import { SCOPES, type Scope, uuidv7 } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { neededScopes, type Operation, operationsOf } from '../helpers/openapi-routes';
import { plausibleRequest } from './fixtures';

/** Scope checks on every route of the document: a key without the needed scope is refused before anything runs. */

let h: Harness;
let operations: Operation[];

beforeAll(async () => {
  h = await createHarness();
  operations = await operationsOf(h.app);
});

afterAll(async () => {
  await h?.close();
});

const problemOf = async (res: Response) => (await res.json()) as { code: string; requestId: string };

describe('scopes', () => {
  it('answers 403 forbidden to a key that has every scope but the one a route needs', async () => {
    const tenantRoutes = operations.filter((o) => o.auth === 'api');
    expect(tenantRoutes.length).toBeGreaterThan(8);
    const keys = new Map<string, string>();
    for (const op of tenantRoutes) {
      const needed: Scope[] = neededScopes(op);
      const others = SCOPES.filter((s) => !needed.includes(s));
      if (!keys.has(needed.join())) keys.set(needed.join(), (await h.newTenant(others)).key);
      const key = keys.get(needed.join())!;
      const res = await h.app.request(await plausibleRequest(op, uuidv7(), `Bearer ${key}`));
      const what = `${op.method} ${op.path} without ${needed.join(' or ')}`;
      expect(res.status, what).toBe(403);
      expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
      expect((await problemOf(res)).code, what).toBe('forbidden');
    }
    // A refused submit or upload stored nothing.
    expect(await h.db.db.$count(jobs)).toBe(0);
    expect(await h.db.db.$count(uploads)).toBe(0);
  });

  it('refuses a tenant key with every scope on every admin route (401)', async () => {
    const adminRoutes = operations.filter((o) => o.auth === 'admin');
    expect(adminRoutes.length).toBeGreaterThanOrEqual(3);
    for (const op of adminRoutes) {
      const res = await h.app.request(await plausibleRequest(op, h.tenantId, `Bearer ${h.key}`));
      expect(res.status, `${op.method} ${op.path}`).toBe(401);
      expect((await problemOf(res)).code).toBe('unauthenticated');
    }
  });

  it('answers the routes without security to anyone, and every secured one 401 without a key', async () => {
    for (const op of operations) {
      const res = await h.app.request(await plausibleRequest(op, uuidv7(), ''));
      const what = `${op.method} ${op.path}`;
      if (op.auth === 'none') expect(res.status, what).toBeLessThan(400);
      else expect(res.status, what).toBe(401);
      await res.body?.cancel();
    }
  });
});
