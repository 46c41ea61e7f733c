import { isRedisNodeAddress } from '@conveyor/queue';
import { envInt, envLogLevel, envString, envUrl, parseEnv, splitList } from '@conveyor/shared';
import { z } from 'zod';
import type { JwtOptions } from './middleware/jwt';

/** An optional string; empty counts as unset. */
const optionalString = () => z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

/** An origin as browsers send it: scheme, lower-case host, port; no path, no trailing slash. */
const isOrigin = (value: string) => {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
};

const corsOrigins = envString('')
  .transform(splitList)
  .refine(
    (list) => (list.includes('*') ? list.length === 1 : list.every(isOrigin)),
    'must be * or a comma-separated list of origins such as https://app.example.com (no path or trailing slash)',
  );

const schema = z.object({
  DATABASE_URL: envUrl('postgres://postgres@127.0.0.1:5432/conveyor', ['postgres:', 'postgresql:']),
  /** A streaming replica of DATABASE_URL for read-only queries (lists, lookups); unset = all reads on the primary. */
  DATABASE_READ_URL: optionalString().refine((v) => {
    if (v === undefined) return true;
    try {
      return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be a postgres:// or postgresql:// URL'),
  REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  /** Seed nodes of a Redis Cluster (host:port or redis[s]://[user:pass@]host:port, comma-separated); set = REDIS_URL unused. */
  REDIS_CLUSTER_NODES: envString('')
    .transform(splitList)
    .refine(
      (nodes) => nodes.every(isRedisNodeAddress),
      'must be host:port or redis[s]:// URLs, comma-separated',
    ),
  QUEUE_PREFIX: envString('{conveyor}').refine(
    (v) => /^\{[A-Za-z0-9_.-]+\}$/.test(v),
    'must look like {name}',
  ),
  PORT: envInt(3000, 0, 65_535),
  HOST: envString('0.0.0.0'),
  LOG_LEVEL: envLogLevel(),
  /** Bearer token for /v1/admin/*; admin endpoints answer 404 while it is unset. */
  ADMIN_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional()),
  /** Bearer token GET /metrics requires; unset = the endpoint is open (keep it off the public network). */
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional()),
  BODY_LIMIT_BYTES: envInt(1024 * 1024, 1024),
  API_DB_POOL_SIZE: envInt(10, 1, 100),
  AUTH_CACHE_TTL_MS: envInt(5_000, 0, 60_000),
  /** JWKS of the token issuer (http/https); turns on RS256/ES256/EdDSA JWT bearer tokens. */
  JWT_JWKS_URL: optionalString().refine((v) => {
    if (v === undefined) return true;
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL'),
  /** Shared secret for HS256 JWT bearer tokens (at least 32 bytes); exclusive with JWT_JWKS_URL. */
  JWT_HS256_SECRET: optionalString().refine(
    (v) => v === undefined || Buffer.byteLength(v, 'utf8') >= 32,
    'must be at least 32 bytes',
  ),
  /** Required `iss` and `aud` of JWTs; both must be set when JWT is on. */
  JWT_ISSUER: optionalString(),
  JWT_AUDIENCE: optionalString(),
  /** The claims carrying the tenant id and the scopes (space-separated string or array). */
  JWT_TENANT_CLAIM: envString('tenant_id'),
  JWT_SCOPES_CLAIM: envString('scope'),
  /** Allowed clock skew when checking exp/nbf/iat, in s. */
  JWT_CLOCK_TOLERANCE_S: envInt(30, 0, 300),
  API_SHUTDOWN_GRACE_MS: envInt(10_000, 0),
  STORAGE_DIR: envString('.data/storage'),
  UPLOAD_LIMIT_BYTES: envInt(25 * 1024 * 1024, 1024),
  FILE_RETENTION_HOURS: envInt(168, 1),
  /** Token bucket per API key: this many requests, refilled evenly over RATE_LIMIT_WINDOW_S; 0 = no default limit. */
  RATE_LIMIT_POINTS: envInt(600, 0, 1_000_000),
  RATE_LIMIT_WINDOW_S: envInt(60, 1, 86_400),
  /** Most unfinished jobs per tenant unless the tenant has its own cap; 0 = unlimited. */
  TENANT_MAX_ACTIVE_JOBS: envInt(0, 0),
  /** How long a tenant's own limits are cached in process, in ms. */
  TENANT_LIMITS_CACHE_MS: envInt(5_000, 0, 60_000),
  /** Failed authentications per client address before it gets 429 (a bucket refilled over the window); 0 = off. */
  AUTH_FAILURE_LIMIT: envInt(20, 0, 1_000_000),
  AUTH_FAILURE_WINDOW_S: envInt(60, 1, 86_400),
  /** Proxies in front of the API whose X-Forwarded-For entries are trusted; 0 = use the socket's address. */
  TRUST_PROXY: envInt(0, 0, 10),
  /** Origins allowed to call the API from a browser: `*`, or a comma list; empty = CORS off. */
  CORS_ORIGINS: corsOrigins,
  /** Smallest answer body gzip/brotli is applied to, in bytes. */
  COMPRESSION_MIN_BYTES: envInt(1024, 0),
  /** Strict-Transport-Security max-age in s; 0 = no header (the right default for plain HTTP). */
  HSTS_MAX_AGE_S: envInt(0, 0, 63_072_000),
  /** Cache-Control max-age of a finished job's GET, in s; 0 = revalidate every time like a live job. */
  TERMINAL_JOB_MAX_AGE_S: envInt(60, 0, 86_400),
});

export type ApiConfig = z.infer<typeof schema>;

/** JWT is on with a JWKS URL or an HS256 secret (not both), and then needs an issuer and an audience. */
const checked = schema.superRefine((env, ctx) => {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (env.JWT_JWKS_URL && env.JWT_HS256_SECRET) {
    problem('JWT_HS256_SECRET', 'must not be set together with JWT_JWKS_URL (choose one)');
  }
  const on = Boolean(env.JWT_JWKS_URL || env.JWT_HS256_SECRET);
  for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE'] as const) {
    if (on && !env[name]) problem(name, 'is required when JWT_JWKS_URL or JWT_HS256_SECRET is set');
    if (!on && env[name]) problem(name, 'is set but JWT is off (set JWT_JWKS_URL or JWT_HS256_SECRET)');
  }
});

/** The JWT settings of `config`, or undefined when JWT is off. */
export function jwtOptions(config: ApiConfig): JwtOptions | undefined {
  const { JWT_JWKS_URL: jwksUrl, JWT_HS256_SECRET: hs256Secret, JWT_ISSUER, JWT_AUDIENCE } = config;
  if (!(jwksUrl || hs256Secret) || !JWT_ISSUER || !JWT_AUDIENCE) return undefined;
  return {
    jwksUrl,
    hs256Secret,
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    tenantClaim: config.JWT_TENANT_CLAIM,
    scopesClaim: config.JWT_SCOPES_CLAIM,
    clockToleranceS: config.JWT_CLOCK_TOLERANCE_S,
  };
}

/** The only place the API reads the environment. Throws ConfigError listing every problem. */
export const loadApiConfig = (env: Record<string, string | undefined> = process.env): ApiConfig =>
  parseEnv(checked, env);
