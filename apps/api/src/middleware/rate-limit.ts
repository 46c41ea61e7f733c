import { withTimeout } from '@conveyor/queue';
import { AppError, type Logger } from '@conveyor/shared';
import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { clientAddress } from '../limits/client-address';
import { createTenantLimits } from '../limits/tenant-limits';
import { createTokenBuckets, type TokenBuckets } from '../limits/token-bucket';
import type { AuthHooks } from './auth';

/** Rate limits and quotas of the API (docs/api.md#rate-limits-and-quotas). */
export interface LimitOptions {
  /**
   * Requests per window for each API key, unless its tenant has its own `rate_limit`: a token bucket of this
   * many tokens, refilled evenly over `windowSeconds`, so a full bucket can be spent at once. 0 = no limit.
   */
  points: number;
  /** The rate-limit window, in s. */
  windowSeconds: number;
  /** Most unfinished jobs per tenant, unless the tenant has its own `max_active_jobs`; default 0 = unlimited. */
  maxActiveJobs?: number;
  /** Failed authentications per client address per `authFailureWindowSeconds` before 429; default 0 = off. */
  authFailures?: number;
  /** Default 60 s. */
  authFailureWindowSeconds?: number;
  /** Proxies in front whose X-Forwarded-For entries are trusted; default 0 = the socket's address. */
  trustedProxies?: number;
  /** How long a tenant's own limits are cached in process, in ms; default 5 000. */
  tenantCacheTtlMs?: number;
  /** Longest wait for Redis before a request is served unlimited, in ms; default 500. */
  redisTimeoutMs?: number;
}

/** How often "limiter unavailable" is logged while Redis is away, in ms. */
const WARN_EVERY_MS = 60_000;
/** After a failed Redis call the limiters are skipped this long, in ms: a stalled Redis costs one timeout a second, not one per request. */
const SKIP_AFTER_FAILURE_MS = 1_000;
/** Most blocked addresses remembered in process; past it the oldest entry goes first. */
const MAX_BLOCKED = 10_000;

/** A structured-field policy and limit (draft-ietf-httpapi-ratelimit-headers-11). */
const policyHeader = (name: string, quota: number, windowSeconds: number) =>
  `"${name}";q=${quota};w=${windowSeconds}`;
const limitHeader = (name: string, remaining: number, seconds: number) =>
  `"${name}";r=${remaining};t=${seconds}`;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1_000));

/**
 * The API's limits as auth hooks: the per-address throttle of failed authentications runs before a
 * credential is looked at, the per-key token bucket once a key is verified. Both live in Redis under the
 * deployment's prefix and FAIL OPEN: when Redis is down, slow or erroring, the request is served without a
 * limit and a warning is logged at most once a minute. A limiter never answers 5xx.
 */
export function createRateLimits(deps: Pick<AppDeps, 'db' | 'producer' | 'limits'>): AuthHooks {
  const options = deps.limits;
  if (!options) return {};
  const { windowSeconds } = options;
  const authFailures = options.authFailures ?? 0;
  const authWindow = options.authFailureWindowSeconds ?? 60;
  const trustedProxies = options.trustedProxies ?? 0;
  const timeoutMs = options.redisTimeoutMs ?? 500;
  const prefix = deps.producer.prefix;
  const keyBuckets = createTokenBuckets(deps.producer.redis, `${prefix}:ratelimit:key`, windowSeconds);
  const addressBuckets = createTokenBuckets(deps.producer.redis, `${prefix}:ratelimit:auth`, authWindow);
  const tenantLimits = createTenantLimits(
    deps.db,
    { rateLimit: options.points, maxActiveJobs: options.maxActiveJobs ?? 0 },
    options.tenantCacheTtlMs ?? 5_000,
  );

  let lastWarning = 0;
  let skipUntil = 0;
  /** Takes from a bucket, or answers null (serve unlimited) when Redis cannot say. */
  const take = async (buckets: TokenBuckets, id: string, capacity: number, cost: number, log: Logger) => {
    if (Date.now() < skipUntil) return null;
    try {
      return await withTimeout(buckets.take(id, capacity, cost), timeoutMs, 'rate limiter');
    } catch (error) {
      skipUntil = Date.now() + SKIP_AFTER_FAILURE_MS;
      if (Date.now() - lastWarning >= WARN_EVERY_MS) {
        lastWarning = Date.now();
        log.warn({ err: error }, 'rate limiter unavailable; serving requests without limits');
      }
      return null;
    }
  };

  const authPolicy = policyHeader('auth-failures', authFailures, authWindow);
  const throttled = (c: Context<AppEnv>) => authFailures > 0 && clientAddress(c, trustedProxies);
  // Addresses whose shared bucket this process saw emptied, until its next token: the check before a
  // credential is looked at costs no Redis round trip (it was one per request, ~13 % of a cached GET's
  // CPU). The count stays shared: every failure takes from the Redis bucket, so another instance blocks an
  // address at its first failure there after the bucket ran dry.
  const blocked = new Map<string, number>();
  const block = (address: string, untilMs: number) => {
    if (blocked.size >= MAX_BLOCKED) {
      const now = Date.now();
      for (const [a, until] of blocked) if (until <= now) blocked.delete(a);
      if (blocked.size >= MAX_BLOCKED) blocked.delete(blocked.keys().next().value as string);
    }
    blocked.set(address, untilMs);
  };

  return {
    async before(c) {
      const address = throttled(c);
      if (!address) return;
      const until = blocked.get(address);
      if (until === undefined) return;
      if (until <= Date.now()) {
        blocked.delete(address);
        return;
      }
      const wait = seconds(until - Date.now());
      throw new AppError(
        'rate_limited',
        429,
        `Too many failed authentications from this address; retry after ${wait} s.`,
        {
          headers: {
            'Retry-After': String(wait),
            'RateLimit-Policy': authPolicy,
            RateLimit: limitHeader('auth-failures', 0, wait),
          },
        },
      );
    },

    async rejected(c) {
      const address = throttled(c);
      if (!address) return;
      const state = await take(addressBuckets, address, authFailures, 1, c.get('log'));
      if (state && (!state.allowed || state.remaining === 0)) block(address, Date.now() + state.waitMs);
    },

    async verified(c, auth) {
      const limits = await tenantLimits(auth.tenantId);
      c.set('limits', limits);
      if (limits.rateLimit === 0) return;
      const policy = policyHeader('default', limits.rateLimit, windowSeconds);
      c.header('RateLimit-Policy', policy);
      const state = await take(keyBuckets, auth.keyId, limits.rateLimit, 1, c.get('log'));
      if (!state) return;
      const wait = seconds(state.waitMs);
      if (state.allowed) {
        c.header('RateLimit', limitHeader('default', state.remaining, wait));
        return;
      }
      throw new AppError(
        'rate_limited',
        429,
        `This API key has used its ${limits.rateLimit} requests per ${windowSeconds} s; retry after ${wait} s.`,
        {
          headers: {
            'Retry-After': String(wait),
            'RateLimit-Policy': policy,
            RateLimit: limitHeader('default', 0, wait),
          },
        },
      );
    },
  };
}
