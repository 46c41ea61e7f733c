import type { Readable } from 'node:stream';

/** Bytes stored under a server-made key. Drivers: local disk today (an S3-compatible one is not built). */
export interface BlobStore {
  /**
   * Writes `source` under `key` atomically (readers never see a partial blob). Rejects with
   * BlobTooLargeError past `maxBytes`, leaving nothing behind.
   */
  put(key: string, source: Readable | Uint8Array, options?: { maxBytes?: number }): Promise<StoredBlob>;
  /** Streams the blob, or the inclusive byte range `[start, end]` of it. */
  read(key: string, range?: { start: number; end: number }): Readable;
  readAll(key: string): Promise<Buffer>;
  stat(key: string): Promise<{ bytes: number } | null>;
  /** Removes the blob; a missing one is not an error. */
  delete(key: string): Promise<void>;
}

export interface StoredBlob {
  bytes: number;
  /** Hex SHA-256 of the content: the artifact's ETag and integrity check. */
  sha256: string;
  /** The first bytes of the content, for sniffing its type. */
  head: Buffer;
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`content is larger than ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}
