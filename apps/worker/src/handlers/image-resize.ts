import { type ImageOutputFormat, type PayloadOf, PermanentError } from '@conveyor/shared';
import sharp, { type SharpOptions } from 'sharp';
import { parseAllowlist } from '../fetch/allowlist';
import { fetchImage } from '../fetch/safe-fetch';
import type { Handler, HandlerContext, ImageSettings } from './types';

type Variant = PayloadOf<'image.resize'>['variants'][number];
type Size = { width: number; height: number };

const EXTENSION: Record<ImageOutputFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' };

/** The output format a variant without one gets: the source's, when sharp can write it, else png. */
function defaultFormat(contentType: string): ImageOutputFormat {
  const sub = contentType.replace(/^image\//, '');
  return sub === 'jpeg' || sub === 'png' || sub === 'webp' || sub === 'avif' ? sub : 'png';
}

/** The size sharp will produce (to within rounding), so an oversized output is refused before it is made. */
function plannedSize(source: Size, v: Variant): Size {
  const scaled = (scale: number) => ({
    width: Math.max(1, Math.round(source.width * scale)),
    height: Math.max(1, Math.round(source.height * scale)),
  });
  if (v.width && v.height) {
    const fit = v.fit ?? 'cover';
    if (fit === 'inside') return scaled(Math.min(v.width / source.width, v.height / source.height));
    if (fit === 'outside') return scaled(Math.max(v.width / source.width, v.height / source.height));
    return { width: v.width, height: v.height };
  }
  return v.width ? scaled(v.width / source.width) : scaled(v.height! / source.height);
}

const invalidImage = (error: unknown) =>
  new PermanentError('invalid_image', `the image cannot be decoded: ${(error as Error).message}`, {
    cause: error,
  });

/**
 * image.resize: reads the source (an upload, or a URL through the SSRF-safe fetcher), checks its declared
 * size against `maxPixels` before decoding a pixel, then writes each variant as an artifact whose
 * width and height are the encoder's own. Corrupt, truncated and oversized images fail for good.
 */
export function createImageResize(settings: ImageSettings): Handler<'image.resize'> {
  const allowlist = parseAllowlist(settings.fetchAllowlist);
  const maxPixels = settings.maxPixels;
  // Every job brings a new image: libvips' operation cache would only hold memory.
  sharp.cache(false);

  async function readSource(source: PayloadOf<'image.resize'>['source'], ctx: HandlerContext) {
    if ('uploadId' in source) {
      const upload = await ctx.readUpload(source.uploadId);
      return { data: upload.data, contentType: upload.contentType };
    }
    return fetchImage(source.url, {
      allowlist,
      maxBytes: settings.fetchMaxBytes,
      timeoutMs: settings.fetchTimeoutMs,
      signal: ctx.signal,
    });
  }

  return async (payload, ctx) => {
    const source = await readSource(payload.source, ctx);
    // failOn 'error': truncated or corrupt pixel data aborts; mere warnings (common in camera JPEGs) do not.
    const options: SharpOptions = { failOn: 'error', autoOrient: true, limitInputPixels: maxPixels };
    // The header only, without the pixel limit, so an oversized image gets its own code.
    const meta = await sharp(source.data, { ...options, limitInputPixels: false })
      .metadata()
      .catch((error: unknown) => {
        throw invalidImage(error);
      });
    const size = meta.autoOrient ?? { width: meta.width, height: meta.height };
    if (!size.width || !size.height) throw invalidImage(new Error('no dimensions'));
    if (size.width * size.height > maxPixels) {
      throw new PermanentError(
        'image_too_large',
        `the image is ${size.width}x${size.height}; at most ${maxPixels} pixels are accepted`,
      );
    }
    ctx.log.info({ width: size.width, height: size.height, format: meta.format }, 'image source read');

    // Every variant is checked before any is made, so a refused job leaves no artifacts behind.
    for (const [i, v] of payload.variants.entries()) {
      const planned = plannedSize(size, v);
      if (planned.width * planned.height > maxPixels) {
        throw new PermanentError(
          'output_too_large',
          `variant ${i} would be ${planned.width}x${planned.height}; at most ${maxPixels} pixels are allowed`,
        );
      }
    }

    const variants = [];
    for (const [i, v] of payload.variants.entries()) {
      ctx.signal.throwIfAborted();
      const format = v.format ?? defaultFormat(source.contentType);
      const { data, info } = await sharp(source.data, options)
        .resize({ width: v.width, height: v.height, fit: v.fit ?? 'cover' })
        .toFormat(format, format === 'png' || v.quality === undefined ? {} : { quality: v.quality })
        .toBuffer({ resolveWithObject: true })
        .catch((error: unknown) => {
          throw invalidImage(error);
        });
      const contentType = `image/${format}`;
      const saved = await ctx.saveArtifact({
        name: `variant-${i}.${EXTENSION[format]}`,
        contentType,
        data,
        metadata: { width: info.width, height: info.height },
      });
      variants.push({
        artifactId: saved.artifactId,
        contentType,
        width: info.width,
        height: info.height,
        bytes: saved.bytes,
      });
      await ctx.progress(Math.floor(((i + 1) / payload.variants.length) * 100));
    }
    return { variants };
  };
}
