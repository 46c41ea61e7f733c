import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import type { JobView } from '@conveyor/shared';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, testHandlerSettings } from '../helpers/harness';

/**
 * image.resize end to end: images made by sharp are uploaded over the API (or served by a local HTTP
 * server), resized by a real worker, and the artifacts downloaded over the API and decoded again.
 */

interface Variant {
  artifactId: string;
  contentType: string;
  width: number;
  height: number;
  bytes: number;
}

/** 640x480 with noise, so encoders have real work and truncation breaks real data. */
const photo = () =>
  sharp({
    create: {
      width: 640,
      height: 480,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 120, sigma: 40 },
    },
  });

/** A valid 1x1 PNG whose header claims `width` x `height`: a few dozen bytes that declare a huge canvas. */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
      .png()
      .toBuffer(),
  );
  // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4) ... CRC over type+data at 29.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

describe('image.resize', () => {
  let h: Harness;
  let images: Server;
  let imagesUrl: string;
  let loopbackHits = 0;
  let loopback: Server;
  let loopbackUrl: string;
  let jpeg: Buffer;

  const upload = async (data: Buffer, contentType: string): Promise<string> => {
    const res = await h.app.request('/v1/uploads', {
      method: 'POST',
      headers: { authorization: `Bearer ${h.key}`, 'content-type': contentType },
      body: data,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };

  const run = async (payload: unknown): Promise<JobView> => {
    const { res, job } = await h.submit({ type: 'image.resize', payload });
    expect(res.status, JSON.stringify(job)).toBe(202);
    return h.waitForStatus(job.id, ['succeeded', 'failed'], 30_000);
  };

  /** The job failed on its first attempt and was never retried. */
  const expectFailedForGood = async (job: JobView, code: string) => {
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code });
    expect(job.attempts).toBe(1);
    expect(job.maxAttempts).toBeGreaterThan(1);
    expect((await h.events(job.id)).map((e) => e.type)).toEqual(['queued', 'running', 'failed']);
  };

  const download = async (artifactId: string) => {
    const res = await h.request('GET', `/v1/artifacts/${artifactId}`);
    expect(res.status).toBe(200);
    const data = Buffer.from(await res.arrayBuffer());
    return { data, contentType: res.headers.get('content-type'), meta: await sharp(data).metadata() };
  };

  const listen = async (server: Server, host: string) => {
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return `http://${host}:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    h = await createHarness();
    jpeg = await photo().jpeg().toBuffer();
    images = createServer((req, res) => {
      if (req.url === '/photo.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg);
      else res.writeHead(404).end();
    });
    imagesUrl = await listen(images, '127.0.0.2');
    loopback = createServer((_req, res) => res.writeHead(200).end(jpeg));
    loopback.on('connection', () => loopbackHits++);
    loopbackUrl = await listen(loopback, '127.0.0.1');
    // Only the image server's address is allowlisted; the rest of loopback stays refused.
    await h.startWorker({
      handlerSettings: {
        ...testHandlerSettings,
        image: { ...testHandlerSettings.image, fetchAllowlist: ['127.0.0.2'] },
      },
    });
  });
  afterAll(async () => {
    images?.closeAllConnections();
    loopback?.closeAllConnections();
    images?.close();
    loopback?.close();
    await h?.close();
  });

  const sources = [
    ['PNG', 'image/png', () => photo().png().toBuffer()],
    ['JPEG', 'image/jpeg', () => photo().jpeg().toBuffer()],
    ['WebP', 'image/webp', () => photo().webp().toBuffer()],
  ] as const;

  it.each(sources)(
    'resizes an uploaded %s into jpeg, png, webp and avif of the right sizes',
    async (_l, type, make) => {
      const uploadId = await upload(await make(), type);
      const job = await run({
        source: { uploadId },
        variants: [
          { width: 200, format: 'jpeg', quality: 70 },
          { width: 160, height: 160, fit: 'cover', format: 'png' },
          { height: 90, format: 'webp', quality: 60 },
          { width: 100, height: 100, fit: 'inside', format: 'avif', quality: 50 },
          { width: 64, height: 32, fit: 'fill' },
        ],
      });
      expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
      const { variants } = job.result as { variants: Variant[] };
      const sourceFormat = type.slice('image/'.length);
      const expected = [
        { format: 'jpeg', type: 'image/jpeg', width: 200, height: 150 },
        { format: 'png', type: 'image/png', width: 160, height: 160 },
        { format: 'webp', type: 'image/webp', width: 120, height: 90 },
        { format: 'heif', type: 'image/avif', width: 100, height: 75 },
        // No format given: the source's own.
        { format: sourceFormat, type, width: 64, height: 32 },
      ];
      expect(variants).toHaveLength(expected.length);
      for (const [i, want] of expected.entries()) {
        const got = variants[i]!;
        expect(got).toMatchObject({ contentType: want.type, width: want.width, height: want.height });
        const file = await download(got.artifactId);
        expect(file.contentType).toBe(want.type);
        expect(file.data.length).toBe(got.bytes);
        expect(file.meta, `variant ${i}`).toMatchObject({
          format: want.format,
          width: want.width,
          height: want.height,
        });
        if (want.format === 'heif') expect(file.meta.compression).toBe('av1');
      }
      const listed = (await (await h.request('GET', `/v1/jobs/${job.id}/artifacts`)).json()) as {
        data: { id: string; name: string; metadata: { width: number; height: number } }[];
      };
      expect(listed.data.map((a) => a.name).sort()).toEqual(
        [
          'variant-0.jpg',
          'variant-1.png',
          'variant-2.webp',
          'variant-3.avif',
          `variant-4.${sourceFormat === 'jpeg' ? 'jpg' : sourceFormat}`,
        ].sort(),
      );
      for (const a of listed.data) {
        const v = variants.find((x) => x.artifactId === a.id)!;
        expect(a.metadata).toEqual({ width: v.width, height: v.height });
      }
    },
  );

  it('resizes an image fetched from a URL on an allowlisted local server', async () => {
    const job = await run({
      source: { url: `${imagesUrl}/photo.jpg` },
      variants: [{ width: 320, format: 'webp' }],
    });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const [variant] = (job.result as { variants: Variant[] }).variants;
    expect(variant).toMatchObject({ contentType: 'image/webp', width: 320, height: 240 });
    expect((await download(variant!.artifactId)).meta).toMatchObject({
      format: 'webp',
      width: 320,
      height: 240,
    });
  });

  it('refuses a URL on loopback outside the allowlist, without connecting, and does not retry', async () => {
    for (const url of [`${loopbackUrl}/photo.jpg`, loopbackUrl.replace('127.0.0.1', '2130706433')]) {
      await expectFailedForGood(await run({ source: { url }, variants: [{ width: 10 }] }), 'fetch_denied');
    }
    expect(loopbackHits).toBe(0);
  });

  it('fails a URL that answers 404 for good', async () => {
    const job = await run({ source: { url: `${imagesUrl}/missing.jpg` }, variants: [{ width: 10 }] });
    await expectFailedForGood(job, 'fetch_failed');
  });

  it('fails a pixel bomb (a tiny PNG declaring 100000x100000) without retrying', async () => {
    const bomb = await pngClaiming(100_000, 100_000);
    expect(bomb.length).toBeLessThan(200);
    const job = await run({
      source: { uploadId: await upload(bomb, 'image/png') },
      variants: [{ width: 100 }],
    });
    await expectFailedForGood(job, 'image_too_large');
  });

  it('fails a real 48-megapixel PNG over the 40 MP limit without retrying', async () => {
    const big = await sharp({ create: { width: 8_000, height: 6_000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const job = await run({
      source: { uploadId: await upload(big, 'image/png') },
      variants: [{ width: 100 }],
    });
    await expectFailedForGood(job, 'image_too_large');
  });

  it('refuses a job with a variant over the pixel limit before making any variant', async () => {
    const uploadId = await upload(jpeg, 'image/jpeg');
    // 640x480 at width 10000 would be 10000x7500 = 75 MP.
    const job = await run({ source: { uploadId }, variants: [{ width: 100 }, { width: 10_000 }] });
    await expectFailedForGood(job, 'output_too_large');
    const listed = (await (await h.request('GET', `/v1/jobs/${job.id}/artifacts`)).json()) as {
      data: unknown[];
    };
    expect(listed.data).toEqual([]);
  });

  it('fails a truncated JPEG and a corrupt PNG without retrying', async () => {
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    const job = await run({
      source: { uploadId: await upload(truncated, 'image/jpeg') },
      variants: [{ width: 100 }],
    });
    await expectFailedForGood(job, 'invalid_image');

    const png = await photo().png().toBuffer();
    const corrupt = Buffer.concat([png.subarray(0, 8), Buffer.alloc(4_096, 0x5a)]);
    const job2 = await run({
      source: { uploadId: await upload(corrupt, 'image/png') },
      variants: [{ width: 100 }],
    });
    await expectFailedForGood(job2, 'invalid_image');
  });

  it('fails a missing upload with upload_not_found', async () => {
    const job = await run({
      source: { uploadId: '01900000-0000-7000-8000-000000000000' },
      variants: [{ width: 100 }],
    });
    await expectFailedForGood(job, 'upload_not_found');
  });

  it('answers 422 at submit for 11 variants, a variant without a size, and a non-http URL', async () => {
    for (const payload of [
      { source: { uploadId: 'x' }, variants: Array.from({ length: 11 }, () => ({ width: 10 })) },
      { source: { uploadId: 'x' }, variants: [{ format: 'png' }] },
      { source: { uploadId: 'x' }, variants: [] },
      { source: { url: 'file:///etc/passwd' }, variants: [{ width: 10 }] },
      { source: { url: `http://example.com/${'a'.repeat(2_048)}` }, variants: [{ width: 10 }] },
      { source: { uploadId: 'x', url: 'http://example.com/' }, variants: [{ width: 10 }] },
      { source: { uploadId: 'x' }, variants: [{ width: 10_001 }] },
      { source: { uploadId: 'x' }, variants: [{ width: 10, format: 'gif' }] },
      { source: { uploadId: 'x' }, variants: [{ width: 10, quality: 0 }] },
    ]) {
      const { res, job } = await h.submit({ type: 'image.resize', payload });
      expect(res.status, JSON.stringify(payload).slice(0, 100)).toBe(422);
      expect((job as unknown as { code: string }).code).toBe('validation_failed');
    }
  });
});
