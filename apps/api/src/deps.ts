import type { Db } from '@conveyor/db';
import type { Producer } from '@conveyor/queue';
import type { Logger } from '@conveyor/shared';
import type { BlobStore } from '@conveyor/storage';

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
  /** Where uploads and artifacts live (shared with the workers). */
  store: BlobStore;
  /** Largest upload, in bytes; default 25 MiB. */
  uploadLimitBytes?: number;
  /** How long uploads are kept, in ms; default 7 days. */
  fileRetentionMs?: number;
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
