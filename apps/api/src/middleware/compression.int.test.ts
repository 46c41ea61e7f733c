import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { completeAttempt, failAttempt, findJob, startAttempt, upsertArtifact } from '@conveyor/db';
import { artifactKey } from '@conveyor/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestTenant, useTestApp } from '../test-support';

/** gzip/brotli by Accept-Encoding through the real app: what is compressed, what never is, and how. */

const api = useTestApp();
const HOUR = 3_600_000;
/** Repetitive text: several KiB that compress to a fraction, so a compressed answer is plainly smaller. */
const LONG_TEXT = 'conveyor compresses text answers. '.repeat(100);

/** The body as the client meant to read it, undoing whatever Content-Encoding says was applied. */
async function decoded(res: Response): Promise<Buffer> {
  const raw = Buffer.from(await res.arrayBuffer());
  const coding = res.headers.get('content-encoding');
  if (coding === 'br') return brotliDecompressSync(raw);
  if (coding === 'gzip') return gunzipSync(raw);
  expect(coding).toBeNull();
  return raw;
}

const varies = (res: Response) =>
  (res.headers.get('vary') ?? '')
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .includes('accept-encoding');

/** An artifact stored the way the worker stores it (blob, then row), on a job of `t`. */
async function artifactOf(t: TestTenant, contentType: string, content: Buffer, name: string) {
  const jobId = (await t.submit()).id;
  const storageKey = artifactKey(t.tenantId, jobId);
  const blob = await api.store.put(storageKey, content);
  const { row } = await upsertArtifact(api.db, {
    tenantId: t.tenantId,
    jobId,
    name,
    contentType,
    bytes: blob.bytes,
    sha256: blob.sha256,
    storageKey,
    metadata: {},
    expiresAt: new Date(Date.now() + HOUR),
  });
  return row;
}

describe('compression', () => {
  let t: TestTenant;
  let bigJobId: string;
  let plainList: Buffer;
  const list = (acceptEncoding?: string) =>
    t.call('GET', '/v1/jobs?limit=100', {
      headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding },
    });

  beforeAll(async () => {
    t = await api.newTenant();
    for (let i = 0; i < 3; i++) await t.submit({ type: 'noop', payload: { echo: `${i} ${LONG_TEXT}` } });
    bigJobId = (await t.submit({ type: 'noop', payload: { echo: LONG_TEXT } })).id;
    const res = await list();
    expect(res.headers.get('content-encoding')).toBeNull();
    plainList = Buffer.from(await res.arrayBuffer());
    expect(plainList.length).toBeGreaterThan(10_000);
  });

  it('brotli-compresses a large JSON list for a client that takes br and gzip; it decompresses to the same bytes', async () => {
    const res = await list('gzip, deflate, br');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(varies(res)).toBe(true);
    const raw = Buffer.from(await res.clone().arrayBuffer());
    expect(raw.length).toBeLessThan(plainList.length / 4);
    expect((await decoded(res)).equals(plainList)).toBe(true);
  });

  it('answers gzip for a client that takes only gzip; it decompresses to the same bytes', async () => {
    const res = await list('gzip');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(varies(res)).toBe(true);
    expect((await decoded(res)).equals(plainList)).toBe(true);
  });

  it.each([
    ['br;q=0.5, gzip;q=0.9', 'gzip'],
    ['gzip;q=0.9, br', 'br'],
    ['gzip, br;q=0', 'gzip'],
    ['br;q=0, *', 'gzip'],
    ['gzip;q=0, *;q=0.2', 'br'],
    ['*', 'br'],
    ['x-gzip', 'gzip'],
    ['BR;Q=1.0', 'br'],
  ])('picks by q-values: Accept-Encoding %j → %s', async (accept, expected) => {
    const res = await list(accept);
    expect(res.headers.get('content-encoding')).toBe(expected);
    expect((await decoded(res)).equals(plainList)).toBe(true);
  });

  it.each([['identity'], ['*;q=0'], ['gzip;q=0, br;q=0'], ['gzip;q=0.5, identity'], ['deflate'], ['']])(
    'sends the body as it is for Accept-Encoding %j, still with Vary',
    async (accept) => {
      const res = await list(accept);
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(varies(res)).toBe(true);
      expect(Buffer.from(await res.arrayBuffer()).equals(plainList)).toBe(true);
    },
  );

  it('does not compress without Accept-Encoding', async () => {
    const res = await list();
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(varies(res)).toBe(true);
  });

  it('leaves a body under 1 KiB uncompressed, with its Content-Length', async () => {
    const res = await t.call('GET', `/v1/jobs/${bigJobId}?fields=id,status`, {
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBeNull();
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBeLessThan(1024);
    expect(res.headers.get('content-length')).toBe(String(body.length));
    expect(JSON.parse(body.toString())).toEqual({ id: bigJobId, status: 'queued' });
  });

  it('compresses a large job read with a weak ETag that still revalidates to 304', async () => {
    const plain = await t.call('GET', `/v1/jobs/${bigJobId}`);
    const strong = plain.headers.get('etag')!;
    expect(strong).toMatch(/^"/);
    const res = await t.call('GET', `/v1/jobs/${bigJobId}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('etag')).toBe(`W/${strong}`);
    expect((await decoded(res)).equals(Buffer.from(await plain.arrayBuffer()))).toBe(true);

    const again = await t.call('GET', `/v1/jobs/${bigJobId}`, {
      headers: { 'accept-encoding': 'gzip', 'if-none-match': `W/${strong}` },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('content-encoding')).toBeNull();
    expect(again.headers.get('etag')).toBe(`W/${strong}`);
    expect(varies(again)).toBe(true);
    expect(await again.text()).toBe('');
  });

  it('lets a raised COMPRESSION_MIN_BYTES keep a large body uncompressed', async () => {
    const app = api.build({ compressionMinBytes: plainList.length + 1 });
    const res = await t.call('GET', '/v1/jobs?limit=100', { app, headers: { 'accept-encoding': 'br' } });
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(Buffer.from(await res.arrayBuffer()).equals(plainList)).toBe(true);
  });

  it('never compresses a server-sent event stream, even one over 1 KiB', async () => {
    const job = await t.submit({ type: 'noop', options: { maxAttempts: 3 } });
    const start = async () => {
      const row = await findJob(api.db, t.tenantId, job.id);
      const outcome = await startAttempt(api.db, job.id, row!.generation);
      if (outcome.kind !== 'run') throw new Error(`could not start: ${outcome.reason}`);
      return outcome.row.fence;
    };
    // A retried attempt with a long error message puts well over 1 KiB into the timeline.
    const error = { code: 'boom', message: LONG_TEXT };
    await failAttempt(api.db, { id: job.id, fence: await start(), error, retryAt: new Date() });
    expect(await completeAttempt(api.db, { id: job.id, fence: await start(), result: {} })).toBe(true);

    const res = await t.call('GET', `/v1/jobs/${job.id}/events`, {
      headers: { accept: 'text/event-stream', 'accept-encoding': 'br, gzip' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(varies(res)).toBe(false);
    const text = await res.text();
    expect(text.length).toBeGreaterThan(1024);
    expect(text).toContain('event: retrying');
    expect(text).toContain('event: succeeded');
  });

  it('never compresses an image/png artifact, however large, and serves its exact bytes', async () => {
    const png = Buffer.alloc(64 * 1024, 7); // as compressible as bytes get: only the type stops it
    const row = await artifactOf(t, 'image/png', png, 'big.png');
    const res = await t.call('GET', `/v1/artifacts/${row.id}`, {
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(res.headers.get('content-length')).toBe(String(png.length));
    expect(res.headers.get('etag')).toBe(`"${row.sha256}"`);
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
  });

  it.each([['application/zip'], ['application/gzip'], ['application/pdf'], ['application/octet-stream']])(
    'never compresses a %s artifact',
    async (type) => {
      const row = await artifactOf(t, type, Buffer.alloc(8 * 1024, 1), 'file.bin');
      const res = await t.call('GET', `/v1/artifacts/${row.id}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.headers.get('content-encoding')).toBeNull();
      expect((await res.arrayBuffer()).byteLength).toBe(8 * 1024);
    },
  );

  describe('a text artifact', () => {
    const csv = Buffer.from(
      `n,text\n${Array.from({ length: 400 }, (_, i) => `${i},${LONG_TEXT}`).join('\n')}`,
    );
    let id: string;
    let sha256: string;

    beforeAll(async () => {
      const row = await artifactOf(t, 'text/csv', csv, 'report.csv');
      id = row.id;
      sha256 = row.sha256;
    });

    it('is streamed through gzip: no Content-Length or Accept-Ranges, a weak ETag, the same bytes inside', async () => {
      const res = await t.call('GET', `/v1/artifacts/${id}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBe('gzip');
      expect(res.headers.get('content-length')).toBeNull();
      expect(res.headers.get('accept-ranges')).toBeNull();
      expect(res.headers.get('etag')).toBe(`W/"${sha256}"`);
      expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
      expect(varies(res)).toBe(true);
      expect((await decoded(res)).equals(csv)).toBe(true);
    });

    it('is not compressed for a Range request (206 counts the stored bytes)', async () => {
      const res = await t.call('GET', `/v1/artifacts/${id}`, {
        headers: { 'accept-encoding': 'br, gzip', range: 'bytes=0-99' },
      });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(res.headers.get('etag')).toBe(`"${sha256}"`);
      expect(Buffer.from(await res.arrayBuffer()).equals(csv.subarray(0, 100))).toBe(true);
    });

    it('is not compressed for HEAD, which keeps Content-Length and says the answer varies', async () => {
      const res = await t.call('HEAD', `/v1/artifacts/${id}`, { headers: { 'accept-encoding': 'br' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(res.headers.get('content-length')).toBe(String(csv.length));
      expect(varies(res)).toBe(true);
    });

    it('revalidates to a 304 without a body or Content-Encoding', async () => {
      const res = await t.call('GET', `/v1/artifacts/${id}`, {
        headers: { 'accept-encoding': 'gzip', 'if-none-match': `W/"${sha256}"` },
      });
      expect(res.status).toBe(304);
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(res.headers.get('etag')).toBe(`W/"${sha256}"`);
      expect(varies(res)).toBe(true);
    });
  });
});
