import { createHash, timingSafeEqual } from 'node:crypto';
import { type Db, findActiveApiKeys } from '@conveyor/db';
import { AppError, apiKeyMatches, apiKeyPrefix, type Scope } from '@conveyor/shared';
import type { Context, MiddlewareHandler } from 'hono';
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
 * Optional checks around authentication, kept apart from the credential logic; limits/ supplies them
 * (throttling of failed attempts per address, the per-key rate limit).
 */
export interface AuthHooks {
  /** Before any credential is looked at; throws to refuse the request. */
  before?(c: Context<AppEnv>): Promise<void>;
  /** After a credential was refused, just before the 401 is thrown. */
  rejected?(c: Context<AppEnv>): Promise<void>;
  /** Once an API key is verified, before its scope is checked. */
  verified?(c: Context<AppEnv>, auth: AuthContext): Promise<void>;
}

/** Runs `check`, telling `hooks.rejected` about a 401 on its way out. */
async function reportingRejections<T>(hooks: AuthHooks, c: Context<AppEnv>, check: () => Promise<T>) {
  try {
    return await check();
  } catch (error) {
    if (error instanceof AppError && error.status === 401) await hooks.rejected?.(c);
    throw error;
  }
}

/**
 * Verifies API keys. A verified key is cached in process for `ttlMs`, so a revoked key stops working
 * within that time; unknown keys are never cached. No key, unknown key and revoked key get one identical 401.
 */
export function createAuthenticator(db: Db, ttlMs: number, hooks: AuthHooks = {}) {
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
      await hooks.before?.(c);
      const auth = await reportingRejections(hooks, c, () => {
        const key = bearer(c.req.header('authorization'));
        return key ? authenticate(key) : Promise.reject(unauthenticated());
      });
      await hooks.verified?.(c, auth);
      if (!auth.scopes.includes(scope)) {
        throw new AppError('forbidden', 403, `This API key lacks the "${scope}" scope.`);
      }
      c.set('auth', auth);
      await next();
    };
}

/** Requires the admin token. With no ADMIN_TOKEN configured the admin API does not exist (404). */
export function requireAdmin(
  adminToken: string | undefined,
  hooks: AuthHooks = {},
): MiddlewareHandler<AppEnv> {
  const expected = adminToken ? createHash('sha256').update(adminToken).digest() : null;
  return async (c, next) => {
    if (!expected) throw new AppError('not_found', 404, 'No such resource.');
    await hooks.before?.(c);
    const given = bearer(c.req.header('authorization'));
    const digest = createHash('sha256')
      .update(given ?? '')
      .digest();
    if (!given || !timingSafeEqual(digest, expected)) {
      await hooks.rejected?.(c);
      throw unauthenticated();
    }
    await next();
  };
}
