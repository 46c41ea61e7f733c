import { createHash, timingSafeEqual } from 'node:crypto';
import { type Db, findActiveApiKeys } from '@conveyor/db';
import { AppError, apiKeyMatches, apiKeyPrefix, type Scope } from '@conveyor/shared';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv, AuthContext } from '../deps';

const unauthenticated = () =>
  new AppError('unauthenticated', 401, 'Send a valid API key as "Authorization: Bearer <key>".', {
    headers: { 'WWW-Authenticate': 'Bearer' },
  });

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/**
 * Verifies API keys. A verified key is cached in process for `ttlMs`, so a revoked key stops working
 * within that time; unknown keys are never cached. No key, unknown key and revoked key get one identical 401.
 */
export function createAuthenticator(db: Db, ttlMs: number) {
  const cache = new Map<string, { auth: AuthContext; expires: number }>();

  async function authenticate(key: string): Promise<AuthContext> {
    const cacheKey = createHash('sha256').update(key).digest('base64');
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.auth;
    const prefix = apiKeyPrefix(key);
    if (!prefix) throw unauthenticated();
    const row = (await findActiveApiKeys(db, prefix)).find((r) => apiKeyMatches(key, r.hash));
    if (!row) {
      cache.delete(cacheKey);
      throw unauthenticated();
    }
    const auth: AuthContext = { tenantId: row.tenantId, keyId: row.id, scopes: row.scopes };
    if (ttlMs > 0) {
      if (cache.size > 10_000) cache.clear();
      cache.set(cacheKey, { auth, expires: Date.now() + ttlMs });
    }
    return auth;
  }

  /** Requires an API key carrying `scope`. */
  return (scope: Scope): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const key = bearer(c.req.header('authorization'));
      if (!key) throw unauthenticated();
      const auth = await authenticate(key);
      if (!auth.scopes.includes(scope)) {
        throw new AppError('forbidden', 403, `This API key lacks the "${scope}" scope.`);
      }
      c.set('auth', auth);
      await next();
    };
}

/** Requires the admin token. With no ADMIN_TOKEN configured the admin API does not exist (404). */
export function requireAdmin(adminToken: string | undefined): MiddlewareHandler<AppEnv> {
  const expected = adminToken ? createHash('sha256').update(adminToken).digest() : null;
  return async (c, next) => {
    if (!expected) throw new AppError('not_found', 404, 'No such resource.');
    const given = bearer(c.req.header('authorization'));
    const digest = createHash('sha256')
      .update(given ?? '')
      .digest();
    if (!given || !timingSafeEqual(digest, expected)) throw unauthenticated();
    await next();
  };
}
