import { revokeApiKey } from '@conveyor/db';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { send, useTestApp } from '../test-support';

/** The in-process API-key cache at its production default (AppDeps.authCacheTtlMs unset = 5 s). */

const api = useTestApp();

describe('API key cache with the default TTL', () => {
  it('keeps serving a just-revoked key from the cache, and refuses it within 5 s', async () => {
    // Built without authCacheTtlMs, exactly as main.ts does when AUTH_CACHE_TTL_MS is unset.
    const app = createApp({ db: api.db, producer: api.producer, log: api.log, store: api.store });
    const { key, id } = await api.newKey(api.tenant.tenantId);
    const list = () => send(app, 'GET', '/v1/jobs', { key });

    expect((await list()).status).toBe(200);
    expect(await revokeApiKey(api.db, id)).toBe(true);
    const revokedAt = Date.now();
    // Served from memory: the revocation is not seen yet, so the cache is real.
    expect((await list()).status).toBe(200);

    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 7_000) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await list()).status;
    }
    const elapsed = Date.now() - revokedAt;
    expect(status).toBe(401);
    expect(elapsed).toBeLessThanOrEqual(5_500);
    // The entry was made by the request just before the revocation, so it lives for most of the 5 s.
    expect(elapsed).toBeGreaterThan(4_000);
  }, 15_000);
});
