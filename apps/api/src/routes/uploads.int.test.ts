import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { findUpload } from '@conveyor/db';
import { uploads } from '@conveyor/db/schema';
import type { Problem } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { chunked, filesUnder, type TestTenant, useTestApp } from '../test-support';

/** POST /v1/uploads: allowed image types checked against the bytes, limits, scopes and server-made keys. */

const JSON_LIMIT = 1_024;
const UPLOAD_LIMIT = 64 * 1_024;
const api = useTestApp({ bodyLimitBytes: JSON_LIMIT, uploadLimitBytes: UPLOAD_LIMIT });

const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** CRC-32 (ISO-HDLC), as PNG chunks carry it. */
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([latin1(type), data])));
  return Buffer.concat([length, latin1(type), data, crc]);
}

/** A complete, decodable 1×1 RGB PNG. */
function png(): Buffer {
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.from([0, 0xff, 0x80, 0x00]))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * One real 1×1 image per allowed type. PNG is built above and WebP written by hand; JPEG, AVIF and TIFF
 * were encoded once with sharp (libvips) and pasted. All six decode with sharp.
 */
const IMAGES: Record<string, Buffer> = {
  'image/png': png(),
  // The classic 1×1 transparent GIF89a.
  'image/gif': Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64'),
  'image/jpeg': Buffer.from(
    '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEh' +
      'gVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAABAAEDASIAAhEBAxEB' +
      '/8QAFQABAQAAAAAAAAAAAAAAAAAAAAT/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAABv/EABQRAQAAAAAAAA' +
      'AAAAAAAAAAAAD/2gAMAwEAAhEDEQA/ALABcjf/2Q==',
    'base64',
  ),
  // A RIFF container with a lossless (VP8L) 1×1 bitstream.
  'image/webp': Buffer.concat([
    latin1('RIFF'),
    Buffer.from([0x1a, 0, 0, 0]),
    latin1('WEBPVP8L'),
    Buffer.from([0x0d, 0, 0, 0, 0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0, 0]),
  ]),
  'image/avif': Buffer.from(
    'AAAAHGZ0eXBhdmlmAAAAAG1pZjFhdmlmbWlhZgAAANZtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAAACJpbG' +
      '9jAAAAAERAAAEAAQAAAAAA+gABAAAAAAAAACQAAAAjaWluZgAAAAAAAQAAABVpbmZlAgAAAAABAABhdjAxAAAAAA5waXRtAAAAAAABAAAA' +
      'VmlwcnAAAAA4aXBjbwAAAAxhdjFDgSACAAAAABRpc3BlAAAAAAAAAAEAAAABAAAAEHBpeGkAAAAAAwgICAAAABZpcG1hAAAAAAAAAAEAAQ' +
      'OBAgMAAAAsbWRhdBIACgc4AAaQENBpMhccQmLk6aaaYWNgAJA2MPCIqBK6eKvKYA==',
    'base64',
  ),
  'image/tiff': Buffer.from(
    'SUkqAAwAAAD/gAAADwAAAQMAAQAAAAEAAAABAQMAAQAAAAEAAAACAQMAAwAAANYAAAADAQMAAQAAAAEAAAAGAQMAAQAAAAIAAAARAQQAAQ' +
      'AAAAgAAAASAQMAAQAAAAEAAAAVAQMAAQAAAAMAAAAWAQMAAQAAAAABAAAXAQQAAQAAAAMAAAAaAQUAAQAAAMYAAAAbAQUAAQAAAM4AAAAc' +
      'AQMAAQAAAAEAAAAoAQMAAQAAAAIAAABTAQMAAwAAANwAAAAAAAAAMzPLAAAACAAzM8sAAAAIAAgACAAIAAEAAQABAA==',
    'base64',
  ),
};

/** A JPEG of about `bytes` bytes: the header, then filler (the API never decodes it). */
const jpegOfSize = (bytes: number) =>
  Buffer.concat([IMAGES['image/jpeg']!, Buffer.alloc(bytes - IMAGES['image/jpeg']!.length, 0x20)]);

const upload = (t: TestTenant, body: Uint8Array | string | ReadableStream<Uint8Array>, type: string) =>
  t.call('POST', '/v1/uploads', { raw: body, headers: { 'content-type': type } });

/** The tenant's upload rows, straight from the table. */
const rowsOf = async (tenantId: string) =>
  (await api.db.select().from(uploads)).filter((r) => r.tenantId === tenantId);

/** Asserts a problem answer, and that the tenant has neither a stored file nor a row. */
async function expectRejected(t: TestTenant, res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(((await res.json()) as Problem).code).toBe(code);
  expect(filesUnder(join(api.storageDir, t.tenantId))).toEqual([]);
  expect(await rowsOf(t.tenantId)).toEqual([]);
}

interface Created {
  id: string;
  contentType: string;
  bytes: number;
}

describe('POST /v1/uploads', () => {
  it.each(Object.keys(IMAGES))(
    'stores a %s file: 201 with id, contentType and bytes, the exact bytes on disk and a row',
    async (type) => {
      const t = await api.newTenant();
      const content = IMAGES[type]!;
      const res = await upload(t, content, type);
      expect(res.status, await res.clone().text()).toBe(201);
      const body = (await res.json()) as Created;
      expect(body).toMatchObject({ id: expect.any(String), contentType: type, bytes: content.length });

      const row = await findUpload(api.db, t.tenantId, body.id);
      expect(row).toMatchObject({ contentType: type, bytes: content.length });
      expect(filesUnder(api.storageDir).filter((f) => f.startsWith(t.tenantId))).toEqual([row!.storageKey]);
      expect(readFileSync(join(api.storageDir, row!.storageKey)).equals(content)).toBe(true);
    },
  );

  it('accepts a declared type with parameters and in any case', async () => {
    const t = await api.newTenant();
    const res = await upload(t, IMAGES['image/png']!, 'IMAGE/PNG; name=x');
    expect(res.status).toBe(201);
    expect(((await res.json()) as Created).contentType).toBe('image/png');
  });

  it.each([
    ['text/plain', 'hello'],
    ['image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
    ['application/json', '{"a":1}'],
    ['application/octet-stream', IMAGES['image/png']!],
  ])('answers 415 unsupported_media_type for %s and stores nothing', async (type, content) => {
    const t = await api.newTenant();
    await expectRejected(t, await upload(t, content, type), 415, 'unsupported_media_type');
  });

  it('answers 415 for an upload without a Content-Type, even when the bytes are a PNG', async () => {
    const t = await api.newTenant();
    const res = await t.call('POST', '/v1/uploads', { raw: IMAGES['image/png']! });
    await expectRejected(t, res, 415, 'unsupported_media_type');
  });

  it.each([
    ['JPEG bytes', IMAGES['image/jpeg']!],
    ['HTML bytes', Buffer.from('<!doctype html><html><script>alert(1)</script></html>')],
    ['SVG bytes', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')],
    ['a truncated PNG signature', IMAGES['image/png']!.subarray(0, 6)],
  ])(
    'answers 415 for a file declared image/png that holds %s, leaving no file and no row',
    async (_, content) => {
      const t = await api.newTenant();
      await expectRejected(t, await upload(t, content, 'image/png'), 415, 'unsupported_media_type');
    },
  );

  it('answers 422 validation_failed for an empty body, with or without Content-Length', async () => {
    const t = await api.newTenant();
    await expectRejected(t, await upload(t, '', 'image/png'), 422, 'validation_failed');
    const sized = await t.call('POST', '/v1/uploads', {
      raw: '',
      headers: { 'content-type': 'image/png', 'content-length': '0' },
    });
    await expectRejected(t, sized, 422, 'validation_failed');
    const none = await t.call('POST', '/v1/uploads', { headers: { 'content-type': 'image/png' } });
    await expectRejected(t, none, 422, 'validation_failed');
  });

  it('accepts an upload of exactly uploadLimitBytes', async () => {
    const t = await api.newTenant();
    const res = await upload(t, jpegOfSize(UPLOAD_LIMIT), 'image/jpeg');
    expect(res.status).toBe(201);
    expect(((await res.json()) as Created).bytes).toBe(UPLOAD_LIMIT);
  });

  it('answers 413 payload_too_large for a Content-Length over uploadLimitBytes, storing nothing', async () => {
    const t = await api.newTenant();
    const content = jpegOfSize(UPLOAD_LIMIT + 1);
    const res = await t.call('POST', '/v1/uploads', {
      raw: content,
      headers: { 'content-type': 'image/jpeg', 'content-length': String(content.length) },
    });
    await expectRejected(t, res, 413, 'payload_too_large');
  });

  it('rejects a Content-Length over the limit before reading the body', async () => {
    const t = await api.newTenant();
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        if (pulls > 100) return controller.close();
        controller.enqueue(new Uint8Array(4_096));
      },
    });
    const res = await t.call('POST', '/v1/uploads', {
      raw: body,
      headers: { 'content-type': 'image/jpeg', 'content-length': String(UPLOAD_LIMIT * 10) },
    });
    await expectRejected(t, res, 413, 'payload_too_large');
    // A stream asks for its first chunk by itself; the route must not ask for more.
    expect(pulls).toBeLessThanOrEqual(2);
  });

  it('answers 413 for a chunked upload over the limit (no Content-Length) and leaves nothing behind', async () => {
    const t = await api.newTenant();
    const res = await upload(t, chunked(jpegOfSize(UPLOAD_LIMIT * 3), 4_096), 'image/jpeg');
    await expectRejected(t, res, 413, 'payload_too_large');
  });

  it('stores a chunked upload within the limit whole', async () => {
    const t = await api.newTenant();
    const content = jpegOfSize(10_000);
    const res = await upload(t, chunked(content, 1_000), 'image/jpeg');
    expect(res.status).toBe(201);
    const row = await findUpload(api.db, t.tenantId, ((await res.json()) as Created).id);
    expect(readFileSync(join(api.storageDir, row!.storageKey)).equals(content)).toBe(true);
  });

  it('holds uploads to their own limit, not the JSON body limit', async () => {
    const t = await api.newTenant();
    const content = jpegOfSize(JSON_LIMIT * 10);
    const res = await t.call('POST', '/v1/uploads', {
      raw: content,
      headers: { 'content-type': 'image/jpeg', 'content-length': String(content.length) },
    });
    expect(res.status).toBe(201);
    // The JSON limit still holds everywhere else.
    const json = await t.call('POST', '/v1/jobs', {
      body: { type: 'noop', payload: { echo: 'x'.repeat(JSON_LIMIT) } },
    });
    expect(json.status).toBe(413);
  });

  it('answers 403 forbidden to a key without jobs:write, and stores nothing', async () => {
    const t = await api.newTenant(['jobs:read']);
    await expectRejected(t, await upload(t, IMAGES['image/png']!, 'image/png'), 403, 'forbidden');
  });

  it('answers 401 unauthenticated without a key, and stores nothing', async () => {
    const t = await api.newTenant();
    const res = await t.call('POST', '/v1/uploads', {
      key: null,
      raw: IMAGES['image/png']!,
      headers: { 'content-type': 'image/png' },
    });
    await expectRejected(t, res, 401, 'unauthenticated');
  });

  it('ignores a client-supplied file name: the file lands under <tenant>/uploads/<uuid>', async () => {
    const t = await api.newTenant();
    const before = filesUnder(api.storageDir).filter((f) => !f.startsWith(t.tenantId));
    const res = await t.call('POST', '/v1/uploads', {
      raw: IMAGES['image/png']!,
      headers: {
        'content-type': 'image/png',
        'content-disposition': 'attachment; filename="../../etc/passwd"',
        'x-file-name': '../../etc/passwd',
      },
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as Created;
    const row = await findUpload(api.db, t.tenantId, id);
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    expect(row!.storageKey).toMatch(new RegExp(`^${t.tenantId}/uploads/${uuid}$`));
    // The one new file in the whole storage directory is that one.
    const after = filesUnder(api.storageDir);
    expect(after.filter((f) => !f.startsWith(t.tenantId))).toEqual(before);
    expect(after.filter((f) => f.startsWith(t.tenantId))).toEqual([row!.storageKey]);
    expect(after.some((f) => f.includes('passwd'))).toBe(false);
  });
});
