import { describe, expect, it } from 'vitest';
import { imageResizePayload, imageResizeResult } from './image-resize';
import { catalog } from './index';

const ok = (payload: unknown) => imageResizePayload.safeParse(payload).success;

describe('image.resize payload', () => {
  it('runs on the images queue and accepts an upload or a URL source', () => {
    expect(catalog['image.resize'].queue).toBe('images');
    expect(ok({ source: { uploadId: 'u1' }, variants: [{ width: 100 }] })).toBe(true);
    expect(
      ok({
        source: { url: 'https://images.example.com/a.png?x=1' },
        variants: [{ width: 1, height: 10_000, fit: 'inside', format: 'avif', quality: 100 }],
      }),
    ).toBe(true);
  });

  it('wants one source, a size on every variant and 1 to 10 variants', () => {
    expect(ok({ source: {}, variants: [{ width: 1 }] })).toBe(false);
    expect(ok({ source: { uploadId: 'u', url: 'http://a.example/' }, variants: [{ width: 1 }] })).toBe(false);
    expect(ok({ source: { uploadId: 'u' }, variants: [{ fit: 'cover' }] })).toBe(false);
    expect(ok({ source: { uploadId: 'u' }, variants: [] })).toBe(false);
    expect(ok({ source: { uploadId: 'u' }, variants: Array(10).fill({ width: 5 }) })).toBe(true);
    expect(ok({ source: { uploadId: 'u' }, variants: Array(11).fill({ width: 5 }) })).toBe(false);
  });

  it('bounds sizes and quality and knows only its formats and fits', () => {
    for (const variant of [
      { width: 0 },
      { width: 10_001 },
      { height: 1.5 },
      { width: 10, quality: 0 },
      { width: 10, quality: 101 },
      { width: 10, format: 'gif' },
      { width: 10, fit: 'crop' },
      { width: 10, background: '#fff' },
    ]) {
      expect(ok({ source: { uploadId: 'u' }, variants: [variant] }), JSON.stringify(variant)).toBe(false);
    }
  });

  it('takes http and https URLs up to 2048 characters only', () => {
    const source = (url: string) => ({ source: { url }, variants: [{ width: 1 }] });
    for (const url of ['file:///etc/passwd', 'ftp://a.example/x', 'javascript:alert(1)', 'not a url']) {
      expect(ok(source(url)), url).toBe(false);
    }
    const base = 'http://a.example/';
    expect(ok(source(base + 'a'.repeat(2_048 - base.length)))).toBe(true);
    expect(ok(source(base + 'a'.repeat(2_049 - base.length)))).toBe(false);
  });

  it('describes each variant in the result with its real size', () => {
    const variant = { artifactId: 'a', contentType: 'image/png', width: 10, height: 5, bytes: 99 };
    expect(imageResizeResult.safeParse({ variants: [variant] }).success).toBe(true);
    expect(imageResizeResult.safeParse({ variants: [{ ...variant, width: 0 }] }).success).toBe(false);
  });
});
