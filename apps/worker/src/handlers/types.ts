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
  email: EmailSettings;
  image: ImageSettings;
}

/** The `image.resize` kind's limits and URL-fetch policy (FETCH_* and IMAGE_* variables). */
export interface ImageSettings {
  /** Hosts, addresses and CIDRs a source URL may reach although private or loopback (FETCH_ALLOWLIST). */
  fetchAllowlist: string[];
  /** Largest image fetched from a URL, in bytes. */
  fetchMaxBytes: number;
  /** Time for a whole URL fetch, redirects included, in ms. */
  fetchTimeoutMs: number;
  /** Largest image decoded or produced, in pixels (width × height); sharp's own default is 268 MP. */
  maxPixels: number;
}

/** The `email.send` kind's SMTP settings (SMTP_* variables). */
export interface EmailSettings {
  /** `smtp://` or `smtps://` URL of the server; query parameters are nodemailer options (`?ignoreTLS=true`). */
  url: string;
  /** Sender when a payload names none: `user@example.com` or `Name <user@example.com>`. */
  from: string;
  /** Right-hand side of the Message-ID, `<jobId@messageIdDomain>`. */
  messageIdDomain: string;
  /** Most SMTP connections open at once; further sends wait for a free one. */
  poolSize: number;
  /** How long to wait for the TCP (or TLS) connection, in ms. */
  connectionTimeoutMs: number;
  /** How long to wait for the server's 220 greeting once connected, in ms. */
  greetingTimeoutMs: number;
  /** How long the connection may sit without traffic during a send, in ms. */
  socketTimeoutMs: number;
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
