import { envInt, envLogLevel, envString, envUrl, parseEnv } from '@conveyor/shared';
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: envUrl('postgres://postgres@127.0.0.1:5432/conveyor', ['postgres:', 'postgresql:']),
  REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  QUEUE_PREFIX: envString('{conveyor}').refine(
    (v) => /^\{[A-Za-z0-9_.-]+\}$/.test(v),
    'must look like {name}',
  ),
  PORT: envInt(3000, 0, 65_535),
  HOST: envString('0.0.0.0'),
  LOG_LEVEL: envLogLevel(),
  /** Bearer token for /v1/admin/*; admin endpoints answer 404 while it is unset. */
  ADMIN_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional()),
  BODY_LIMIT_BYTES: envInt(1024 * 1024, 1024),
  API_DB_POOL_SIZE: envInt(10, 1, 100),
  AUTH_CACHE_TTL_MS: envInt(5_000, 0, 60_000),
  API_SHUTDOWN_GRACE_MS: envInt(10_000, 0),
  STORAGE_DIR: envString('.data/storage'),
  UPLOAD_LIMIT_BYTES: envInt(25 * 1024 * 1024, 1024),
  FILE_RETENTION_HOURS: envInt(168, 1),
});

export type ApiConfig = z.infer<typeof schema>;

/** The only place the API reads the environment. Throws ConfigError listing every problem. */
export const loadApiConfig = (env: Record<string, string | undefined> = process.env): ApiConfig =>
  parseEnv(schema, env);
