import { createHash, timingSafeEqual } from 'node:crypto';
import { type Db, findActiveApiKeys } from '@conveyor/db';
import { AppError, apiKeyMatches, apiKeyPrefix, type Scope } from '@conveyor/shared';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, AuthContext } from '../deps';
import { type JwtVerifier, looksLikeJwt } from './jwt';

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
 * With `jwt`, a bearer token shaped like a JWT is verified by it instead (middleware/jwt.ts), refused with
 * the same 401 and through the same hooks.
 */
export function createAuthenticator(db: Db, ttlMs: number, hooks: AuthHooks = {}, jwt?: JwtVerifier) {
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

  async function authenticateJwt(token: string, c: Context<AppEnv>): Promise<AuthContext> {
    const auth = await jwt?.(token, c.get('log'));
    if (!auth) throw unauthenticated();
    return auth;
  }

  /** Requires an API key (or JWT) carrying `scope`, or one of the scopes when given a list. */
  return (scope: Scope | readonly Scope[]): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      await hooks.before?.(c);
      const auth = await reportingRejections(hooks, c, () => {
        const key = bearer(c.req.header('authorization'));
        if (!key) return Promise.reject(unauthenticated());
        return jwt && looksLikeJwt(key) ? authenticateJwt(key, c) : authenticate(key);
      });
      await hooks.verified?.(c, auth);
      const accepted: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
      if (!accepted.some((s) => auth.scopes.includes(s))) {
        throw new AppError('forbidden', 403, `This API key lacks the "${accepted.join('" or "')}" scope.`);
      }
      c.set('auth', auth);
      await next();
    };
}

/** The password of `Authorization: Basic base64(user:password)`; the user name is ignored. */
function basicPassword(header: string | undefined): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1) || null;
}

export interface AdminAuthOptions {
  /**
   * Also accept the token as the password of HTTP Basic auth (any user name), and answer a 401 with
   * `WWW-Authenticate: Basic realm="<basicRealm>"` so a browser asks for it and resends it with every
   * request of the page (the Bull Board UI). Default: Bearer only.
   */
  basicRealm?: string;
}

/** Requires the admin token. With no ADMIN_TOKEN configured the admin API does not exist (404). */
export function requireAdmin(
  adminToken: string | undefined,
  hooks: AuthHooks = {},
  options: AdminAuthOptions = {},
): MiddlewareHandler<AppEnv> {
  const expected = adminToken ? createHash('sha256').update(adminToken).digest() : null;
  const { basicRealm } = options;
  return async (c, next) => {
    if (!expected) throw new AppError('not_found', 404, 'No such resource.');
    await hooks.before?.(c);
    const header = c.req.header('authorization');
    const given = bearer(header) ?? (basicRealm ? basicPassword(header) : null);
    const digest = createHash('sha256')
      .update(given ?? '')
      .digest();
    if (!given || !timingSafeEqual(digest, expected)) {
      await hooks.rejected?.(c);
      if (!basicRealm) throw unauthenticated();
      throw new AppError(
        'unauthenticated',
        401,
        'Send the admin token as a Bearer token or Basic password.',
        {
          headers: { 'WWW-Authenticate': `Basic realm="${basicRealm}", charset="UTF-8"` },
        },
      );
    }
    await next();
  };
}
