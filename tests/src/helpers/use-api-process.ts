import { createApiKey, createTenant } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import type { Scope } from '@conveyor/shared';
import { afterAll, beforeAll } from 'vitest';
import { REDIS_URL } from './env';
import { freePort } from './ports';
import { type AppProcess, startApp } from './processes';

/** What `useApiProcess` gives the tests of a `describe`; set once its `beforeAll` has run. */
export interface ApiProcessContext {
  db: TestDatabase;
  api: AppProcess;
  port: number;
  prefix: string;
  tenantId: string;
  /** An API key of `tenantId` with the scopes asked for. */
  key: string;
}

/**
 * A real API process for the enclosing `describe`, started once: its own database, a tenant and key, a
 * key prefix of its own on the shared Redis, a free port on loopback. Killed and cleaned up after all tests.
 * `env` is added to (and may override) the process environment.
 */
export function useApiProcess(options: {
  tenant: string;
  scopes: Scope[];
  env?: Record<string, string>;
}): ApiProcessContext {
  const ctx = { prefix: testPrefix() } as ApiProcessContext;

  beforeAll(async () => {
    ctx.db = await createTestDatabase();
    ctx.tenantId = (await createTenant(ctx.db.db, options.tenant)).id;
    ctx.key = (await createApiKey(ctx.db.db, { tenantId: ctx.tenantId, scopes: options.scopes })).key;
    ctx.port = await freePort();
    ctx.api = startApp('api', {
      DATABASE_URL: ctx.db.url,
      REDIS_URL,
      QUEUE_PREFIX: ctx.prefix,
      PORT: String(ctx.port),
      HOST: '127.0.0.1',
      ...options.env,
    });
    await ctx.api.waitForLine(/"api listening"/);
  });
  afterAll(async () => {
    await ctx.api?.kill();
    await deletePrefix(REDIS_URL, ctx.prefix);
    await ctx.db?.drop();
  });

  return ctx;
}
