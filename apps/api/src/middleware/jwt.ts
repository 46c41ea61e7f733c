import { type Db, findTenant } from '@conveyor/db';
import { AppError, type Logger, SCOPES } from '@conveyor/shared';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { AuthContext } from '../deps';

/** JWT bearer tokens for first-party frontends (docs/api.md#json-web-tokens). */
export interface JwtOptions {
  /** JWKS endpoint (http/https); tokens must then be RS256, ES256 or EdDSA. Exclusive with `hs256Secret`. */
  jwksUrl?: string | undefined;
  /** Shared HS256 secret, at least 32 bytes; tokens must then be HS256. Exclusive with `jwksUrl`. */
  hs256Secret?: string | undefined;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud` (one of the token's audiences). */
  audience: string;
  /** Claim holding the tenant id; default `tenant_id`. */
  tenantClaim?: string;
  /** Claim holding the scopes, space-separated (RFC 8693) or an array; default `scope`. */
  scopesClaim?: string;
  /** Allowed clock skew for `exp`/`nbf`/`iat`, in s; default 30. */
  clockToleranceS?: number;
  /** Shortest time between two JWKS fetches triggered by an unknown `kid`, in ms; default 30 000. */
  jwksCooldownMs?: number;
  /** How long a fetched JWKS is used before it is fetched again, in ms; default 600 000. */
  jwksCacheMaxAgeMs?: number;
}

/**
 * Verifies a JWT and maps its claims to an AuthContext; null for any token that must be refused (the reason
 * is logged at debug, never answered). Infrastructure failures (database, JWKS timeout) are thrown.
 */
export type JwtVerifier = (token: string, log: Logger) => Promise<AuthContext | null>;

/** Asymmetric algorithms accepted from a JWKS; HS256 (and `none`) never are, so a public key cannot be used as an HMAC secret. */
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KNOWN_SCOPES: ReadonlySet<string> = new Set(SCOPES);

/** Three base64url segments (the signature may be empty, as in `alg: none`), which no API key matches. */
export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);

/** The scopes of `value` (a space-separated string or an array of strings) that the API knows; null if malformed. */
function scopesOf(value: unknown): string[] | null {
  const list = typeof value === 'string' ? value.split(/\s+/) : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) return null;
  return list.filter((s) => KNOWN_SCOPES.has(s));
}

/**
 * Builds the verifier. A tenant seen to exist is remembered for `tenantCacheTtlMs` (like a verified API key),
 * so a deleted tenant's tokens stop working within that time.
 */
export function createJwtVerifier(db: Db, options: JwtOptions, tenantCacheTtlMs: number): JwtVerifier {
  if (Boolean(options.jwksUrl) === Boolean(options.hs256Secret)) {
    throw new Error('JWT: configure exactly one of jwksUrl and hs256Secret');
  }
  const key: JWTVerifyGetKey | Uint8Array = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
      })
    : new TextEncoder().encode(options.hs256Secret);
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: options.jwksUrl ? JWKS_ALGORITHMS : ['HS256'],
    clockTolerance: options.clockToleranceS ?? 30,
    requiredClaims: ['exp', 'sub'],
  };
  const tenantClaim = options.tenantClaim ?? 'tenant_id';
  const scopesClaim = options.scopesClaim ?? 'scope';
  const tenants = new Map<string, number>();

  async function tenantExists(id: string) {
    if ((tenants.get(id) ?? 0) > Date.now()) return true;
    const found = (await findTenant(db, id)) !== undefined;
    if (found && tenantCacheTtlMs > 0) {
      if (tenants.size > 10_000) tenants.clear();
      tenants.set(id, Date.now() + tenantCacheTtlMs);
    }
    return found;
  }

  async function payloadOf(token: string, log: Logger): Promise<JWTPayload | null> {
    try {
      const verified =
        key instanceof Uint8Array
          ? await jwtVerify(token, key, verifyOptions)
          : await jwtVerify(token, key, verifyOptions);
      return verified.payload;
    } catch (error) {
      if (error instanceof errors.JWKSTimeout) {
        throw new AppError('unavailable', 503, 'Token keys are unavailable; retry shortly.', {
          cause: error,
          headers: { 'Retry-After': '5' },
        });
      }
      if (!(error instanceof errors.JOSEError)) throw error;
      log.debug({ reason: error.code, detail: error.message }, 'jwt rejected');
      return null;
    }
  }

  return async (token, log) => {
    const payload = await payloadOf(token, log);
    if (!payload) return null;
    const reject = (reason: string) => {
      log.debug({ reason }, 'jwt rejected');
      return null;
    };
    const tenantId = payload[tenantClaim];
    if (typeof tenantId !== 'string' || !UUID_RE.test(tenantId))
      return reject('tenant claim missing or malformed');
    const scopes = scopesOf(payload[scopesClaim]);
    if (!scopes) return reject('scope claim missing or malformed');
    if (!payload.sub) return reject('sub claim empty');
    if (!(await tenantExists(tenantId.toLowerCase()))) return reject('unknown tenant');
    return { tenantId: tenantId.toLowerCase(), scopes, keyId: `jwt:${payload.sub}` };
  };
}
