import { randomBytes } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import { compression, isCompressibleType, negotiateEncoding } from './compression';

describe('negotiateEncoding', () => {
  it.each([
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0.5, gzip;q=0.9', 'gzip'],
    ['br;q=0.9, gzip;q=0.9', 'br'],
    ['br;q=0, *', 'gzip'],
    ['gzip;q=0, *;q=0.1', 'br'],
    ['x-gzip;q=0.5', 'gzip'],
    ['Gzip ; Q=0.7', 'gzip'],
    ['identity;q=0.5, gzip', 'gzip'],
  ])('%j → %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });

  it.each([
    [undefined],
    [''],
    ['identity'],
    ['*;q=0'],
    ['*;q=0, identity'],
    ['br;q=0, gzip;q=0'],
    ['gzip;q=0.5, identity'],
    ['deflate, compress'],
    ['gzip;q=2'],
    ['gzip;q=0.0001'],
  ])('%j → no compression', (header) => {
    expect(negotiateEncoding(header)).toBeNull();
  });
});

describe('isCompressibleType', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/problem+json',
    'text/csv',
    'text/plain; charset=utf-8',
    'image/svg+xml',
    'application/xml',
  ])('compresses %s', (type) => expect(isCompressibleType(type)).toBe(true));

  it.each([
    'text/event-stream',
    'text/event-stream; charset=utf-8',
    'image/png',
    'image/jpeg',
    'image/webp',
    'application/zip',
    'application/gzip',
    'application/pdf',
    'application/octet-stream',
    'video/mp4',
    'audio/mpeg',
    'font/woff2',
  ])('leaves %s alone', (type) => expect(isCompressibleType(type)).toBe(false));

  it('leaves an answer without a type alone', () => expect(isCompressibleType(null)).toBe(false));
});

/** Hex text of `bytes` random bytes: text, so it is compressed, but only to about half. */
const randomText = (bytes: number) => new TextEncoder().encode(randomBytes(bytes / 2).toString('hex'));

describe('compression middleware on a streamed body', () => {
  it('sends compressed bytes before the source has ended (nothing buffered whole)', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = new Hono();
    app.use(compression());
    app.get('/stream', (c) => {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          for (let i = 0; i < 16; i++) controller.enqueue(randomText(64 * 1024));
          await released; // the rest only comes once the client has seen compressed output
          controller.enqueue(randomText(1024));
          controller.close();
        },
      });
      return c.body(body, 200, { 'Content-Type': 'text/plain' });
    });

    const res = await app.request('/stream', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(first.value!.byteLength).toBeGreaterThan(0);
    release();
    // Decompress the whole answer to check nothing was lost on the way.
    const gunzip = createGunzip();
    const out: Buffer[] = [];
    gunzip.on('data', (b: Buffer) => out.push(b));
    gunzip.write(first.value);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      gunzip.write(value);
    }
    await new Promise((resolve) => gunzip.end(resolve));
    expect(Buffer.concat(out).length).toBe(16 * 64 * 1024 + 1024);
  });

  it('cancels the source when the client stops reading a compressed answer', async () => {
    const cancel = vi.fn();
    const app = new Hono();
    app.use(compression());
    app.get('/endless', (c) => {
      const body = new ReadableStream<Uint8Array>({
        pull: (controller) => controller.enqueue(randomText(16 * 1024)),
        cancel,
      });
      return c.body(body, 200, { 'Content-Type': 'text/plain' });
    });
    const res = await app.request('/endless', { headers: { 'accept-encoding': 'br' } });
    expect(res.headers.get('content-encoding')).toBe('br');
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await vi.waitFor(() => expect(cancel).toHaveBeenCalled());
  });

  it('keeps a short streamed body as it is and gives it a Content-Length', async () => {
    const app = new Hono();
    app.use(compression());
    app.get('/short', (c) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('hello '));
          controller.enqueue(new TextEncoder().encode('world'));
          controller.close();
        },
      });
      return c.body(body, 200, { 'Content-Type': 'text/plain' });
    });
    const res = await app.request('/short', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(res.headers.get('content-length')).toBe('11');
    expect(await res.text()).toBe('hello world');
  });

  it('respects Cache-Control: no-transform', async () => {
    const app = new Hono();
    app.use(compression());
    app.get('/raw', (c) =>
      c.body('x'.repeat(4096), 200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-transform' }),
    );
    const res = await app.request('/raw', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(await res.text()).toBe('x'.repeat(4096));
  });
});
