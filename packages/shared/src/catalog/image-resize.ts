import { z } from 'zod';
import { defineKind } from './kind';

/** Output formats of `image.resize`; the artifact's Content-Type is `image/<format>`. */
export const IMAGE_OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif'] as const;
export type ImageOutputFormat = (typeof IMAGE_OUTPUT_FORMATS)[number];

/** sharp's fit modes: how the image fills a box when both width and height are given. */
export const IMAGE_FITS = ['cover', 'contain', 'fill', 'inside', 'outside'] as const;

/** Most variants one job may ask for. */
export const MAX_IMAGE_VARIANTS = 10;

/** Longest accepted source URL, in characters. */
export const MAX_SOURCE_URL_LENGTH = 2048;

const dimension = z.number().int().min(1).max(10_000);

const httpUrl = z
  .string()
  .max(MAX_SOURCE_URL_LENGTH)
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

export const imageVariant = z
  .object({
    /** Target width in pixels (1–10 000). */
    width: dimension.optional(),
    /** Target height in pixels (1–10 000). */
    height: dimension.optional(),
    /** Used when both width and height are given; default `cover`. */
    fit: z.enum(IMAGE_FITS).optional(),
    /** Default: the source's format when it is one of these, otherwise `png`. */
    format: z.enum(IMAGE_OUTPUT_FORMATS).optional(),
    /** Encoder quality for jpeg, webp and avif (1–100); png is lossless and ignores it. */
    quality: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .refine((v) => v.width !== undefined || v.height !== undefined, {
    message: 'give width, height or both',
    path: ['width'],
  });

export const imageResizePayload = z
  .object({
    source: z.union([
      z.object({ uploadId: z.string().min(1).max(100) }).strict(),
      z.object({ url: httpUrl }).strict(),
    ]),
    variants: z.array(imageVariant).min(1).max(MAX_IMAGE_VARIANTS),
  })
  .strict();

export const imageResizeResult = z
  .object({
    /** One entry per requested variant, in request order. */
    variants: z.array(
      z
        .object({
          artifactId: z.string(),
          contentType: z.string(),
          /** The stored image's real size, read back from the encoder. */
          width: z.number().int().positive(),
          height: z.number().int().positive(),
          bytes: z.number().int().nonnegative(),
        })
        .strict(),
    ),
  })
  .strict();

/** Resizes an uploaded or fetched image into up to 10 variants, each stored as an artifact. */
export const imageResize = defineKind({
  queue: 'images',
  payload: imageResizePayload,
  result: imageResizeResult,
  maxAttempts: 3,
  backoff: { baseMs: 2_000, maxMs: 60_000 },
  timeoutMs: 120_000,
});
