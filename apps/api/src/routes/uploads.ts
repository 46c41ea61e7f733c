import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { insertUpload } from '@conveyor/db';
import { AppError, validationFailed } from '@conveyor/shared';
import { BlobTooLargeError, IMAGE_TYPES, type ImageType, sniffImageType, uploadKey } from '@conveyor/storage';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import type { createAuthenticator } from '../middleware/auth';

const tooLarge = (limit: number) =>
  new AppError('payload_too_large', 413, `The upload is larger than ${limit} bytes.`);

/**
 * POST /v1/uploads: the raw file as the body. The declared Content-Type must be an allowed image type and
 * must match the file's magic bytes; the body is streamed to storage under a server-made key and cut off
 * at the limit, with or without a Content-Length.
 */
export function uploadRoutes(deps: AppDeps, requireScope: ReturnType<typeof createAuthenticator>) {
  const app = new Hono<AppEnv>();
  const limit = deps.uploadLimitBytes ?? 25 * 1024 * 1024;

  app.post('/', requireScope('jobs:write'), async (c) => {
    const declared = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!(IMAGE_TYPES as readonly string[]).includes(declared)) {
      throw new AppError('unsupported_media_type', 415, `Upload one of: ${IMAGE_TYPES.join(', ')}.`);
    }
    const length = Number(c.req.header('content-length') ?? Number.NaN);
    if (length > limit) throw tooLarge(limit);
    const body = c.req.raw.body;
    if (!body || length === 0) throw validationFailed([{ path: 'body', message: 'the file is empty' }]);

    const { tenantId } = c.get('auth');
    const storageKey = uploadKey(tenantId);
    let blob: Awaited<ReturnType<typeof deps.store.put>>;
    try {
      blob = await deps.store.put(storageKey, Readable.fromWeb(body as NodeWebStream), { maxBytes: limit });
    } catch (error) {
      if (error instanceof BlobTooLargeError) throw tooLarge(limit);
      throw error;
    }
    try {
      if (blob.bytes === 0) throw validationFailed([{ path: 'body', message: 'the file is empty' }]);
      const sniffed = sniffImageType(blob.head);
      if (sniffed !== (declared as ImageType)) {
        throw new AppError(
          'unsupported_media_type',
          415,
          sniffed
            ? `The file is ${sniffed}, not ${declared} as declared.`
            : `The file's content is not ${declared} (or any accepted image type).`,
        );
      }
      const row = await insertUpload(deps.db, {
        tenantId,
        contentType: declared,
        bytes: blob.bytes,
        sha256: blob.sha256,
        storageKey,
        expiresAt: new Date(Date.now() + (deps.fileRetentionMs ?? 7 * 24 * 3_600_000)),
      });
      return c.json(
        {
          id: row.id,
          contentType: row.contentType,
          bytes: row.bytes,
          createdAt: row.createdAt.toISOString(),
          expiresAt: row.expiresAt.toISOString(),
        },
        201,
      );
    } catch (error) {
      // Nothing half-written: a rejected or unrecorded upload leaves no blob behind.
      await deps.store.delete(storageKey);
      throw error;
    }
  });

  return app;
}
