import type { Readable } from 'node:stream';
import type { Db } from '@conveyor/db';
import type { JobType, Logger, PayloadOf, ResultOf } from '@conveyor/shared';
import type { BlobStore } from '@conveyor/storage';

export interface ArtifactInput {
  /** Unique within the job, `[A-Za-z0-9._-]{1,100}`; saving the same name again (a retry) replaces it. */
  name: string;
  contentType: string;
  data: Uint8Array | Readable;
  /** Kind-specific facts shown with the artifact (an image's width and height). */
  metadata?: Record<string, unknown>;
}

export interface SavedArtifact {
  artifactId: string;
  name: string;
  contentType: string;
  bytes: number;
}

export interface UploadContent {
  contentType: string;
  bytes: number;
  data: Buffer;
}

/** What a handler gets besides its payload. */
export interface HandlerContext {
  jobId: string;
  tenantId: string;
  /** 1 for the first start of this job's current life; use it with jobId to make effects idempotent. */
  attempt: number;
  /** Fires on cancel, timeout or worker shutdown; a handler should stop promptly when it does. */
  signal: AbortSignal;
  log: Logger;
  /** Records progress (0–100) on the job. */
  progress(percent: number): Promise<void>;
  saveArtifact(input: ArtifactInput): Promise<SavedArtifact>;
  /** An upload of the job's tenant; fails the job for good (PermanentError) when missing or expired. */
  readUpload(uploadId: string): Promise<UploadContent>;
}

export type Handler<T extends JobType> = (payload: PayloadOf<T>, ctx: HandlerContext) => Promise<ResultOf<T>>;

/** One handler per kind in the catalog: a kind without a handler is a compile error here. */
export type HandlerMap = { [T in JobType]: Handler<T> };

/** Settings handlers need, from the worker's config. */
export interface HandlerSettings {
  /** How long artifacts are kept, in ms. */
  fileRetentionMs: number;
}

/** What handlers are built from; kinds that hold connections (an SMTP pool) create them here. */
export interface HandlerDeps {
  db: Db;
  store: BlobStore;
  log: Logger;
  settings: HandlerSettings;
}

export interface HandlerSet {
  handlers: HandlerMap;
  /** Closes what the handlers opened (connection pools); called at shutdown after the workers stop. */
  close(): Promise<void>;
}
