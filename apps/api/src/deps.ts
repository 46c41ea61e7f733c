import type { Db } from '@conveyor/db';
import type { Producer } from '@conveyor/queue';
import type { Logger } from '@conveyor/shared';
import type { BlobStore } from '@conveyor/storage';
import type { EffectiveLimits } from './limits/tenant-limits';
import type { JobWatch } from './live/job-watch';
import type { ApiMetrics } from './metrics/registry';
import type { JwtOptions } from './middleware/jwt';
import type { LimitOptions } from './middleware/rate-limit';

/** What the app is built from; tests pass real ones pointed at their own database and key prefix. */
export interface AppDeps {
  db: Db;
  /**
   * A read replica (DATABASE_READ_URL) for read-only queries that may lag: job lists, job and artifact
   * lookups (a miss there is asked of `db` again), events lists. Default none: every read uses `db`.
   */
  readDb?: Db | undefined;
  producer: Producer;
  log: Logger;
  adminToken?: string | undefined;
  /** Largest JSON body, in bytes; default 1 MiB. */
  bodyLimitBytes?: number;
  /** How long a verified API key is trusted without a database read, in ms; default 5 000. */
  authCacheTtlMs?: number;
  /** JWT bearer tokens (JWKS or HS256) besides API keys; default none = only API keys are accepted. */
  jwt?: JwtOptions | undefined;
  /** Where uploads and artifacts live (shared with the workers). */
  store: BlobStore;
  /** Largest upload, in bytes; default 25 MiB. */
  uploadLimitBytes?: number;
  /** How long uploads are kept, in ms; default 7 days. */
  fileRetentionMs?: number;
  /** Job-change fan-out for ?wait= and event streams; without it they poll Postgres every 500 ms. */
  watch?: JobWatch;
  /** Rate limits, the active-job cap and the failed-auth throttle; default none (every request unlimited). */
  limits?: LimitOptions;
  /** Origins allowed by CORS: exact origins, or `['*']` for any; default [] = CORS off. */
  corsOrigins?: readonly string[];
  /** Smallest answer body that is gzip/brotli-compressed, in bytes; default 1024. */
  compressionMinBytes?: number;
  /** Strict-Transport-Security max-age, in s; default 0 = no header (HTTPS deployments only). */
  hstsMaxAgeS?: number;
  /** Cache-Control max-age of a GET of a finished job, in s; default 60; 0 = `no-cache` like a live job. */
  terminalJobMaxAgeS?: number;
  /** Serve `GET /v1/jobs/:id` through the Redis read cache (`producer.jobCache`); default true. */
  readCache?: boolean;
  /** The Prometheus registry served at /metrics; default one without process metrics (main.ts adds them). */
  metrics?: ApiMetrics;
  /** Bearer token /metrics requires; default none = the endpoint is open (keep it on a private network). */
  metricsToken?: string | undefined;
  /** Most schedules one tenant may have; default MAX_SCHEDULES_PER_TENANT (1 000). */
  maxSchedulesPerTenant?: number;
}

export interface AuthContext {
  tenantId: string;
  keyId: string;
  scopes: readonly string[];
}

export type AppEnv = {
  Variables: {
    requestId: string;
    log: Logger;
    auth: AuthContext;
    /** The tenant's resolved limits, once its key is verified (unset without `AppDeps.limits`). */
    limits: EffectiveLimits | undefined;
    /** Largest JSON body this request may send, in bytes (set by the app's body-limit layer). */
    bodyLimit: number;
  };
};
