import type { Db } from '@conveyor/db';
import type { Producer } from '@conveyor/queue';
import type { Logger } from '@conveyor/shared';

/** What the app is built from; tests pass real ones pointed at their own database and key prefix. */
export interface AppDeps {
  db: Db;
  producer: Producer;
  log: Logger;
  adminToken?: string | undefined;
  /** Largest JSON body, in bytes; default 1 MiB. */
  bodyLimitBytes?: number;
  /** How long a verified API key is trusted without a database read, in ms; default 5 000. */
  authCacheTtlMs?: number;
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
  };
};
