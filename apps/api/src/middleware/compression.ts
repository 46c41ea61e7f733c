import { pipeline, Readable } from 'node:stream';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import type { Context, MiddlewareHandler } from 'hono';

export type ContentCoding = 'br' | 'gzip';

export interface CompressionOptions {
  /** Smallest body that is compressed, in bytes; default 1024. Below it the framing costs more than it saves. */
  minBytes?: number;
}

/**
 * Types worth compressing: text and structured text. Everything else passes through untouched, which is
 * how images, video, audio, archives, PDFs, fonts and unknown binaries (application/octet-stream) stay
 * uncompressed: they are compressed already or nobody knows. SVG is text, so image/svg+xml is on the list.
 * text/event-stream is left out: a compressor holds back bytes until its buffer fills, which would stall
 * a live stream.
 */
const COMPRESSIBLE =
  /^(?:text\/(?!event-stream$)[\w.+-]+|application\/(?:json|xml|javascript|ecmascript|x-ndjson|yaml|toml|graphql|x-www-form-urlencoded)|[\w.-]+\/[\w.-]+\+(?:json|xml|yaml))$/;

const mediaType = (contentType: string | null) => (contentType ?? '').split(';')[0]!.trim().toLowerCase();
export const isCompressibleType = (contentType: string | null) => COMPRESSIBLE.test(mediaType(contentType));

/**
 * The coding to answer with for an Accept-Encoding header (RFC 9110 §12.5.3), or null for none. The
 * highest q wins, brotli before gzip on a tie; `*` stands for any coding the header does not name; q=0
 * refuses. identity, when named with a higher q than the best coding, keeps the body as it is. No header
 * means no compression (the RFC allows any coding then, but old clients send none and expect plain bytes).
 */
export function negotiateEncoding(header: string | undefined): ContentCoding | null {
  if (!header) return null;
  const q = new Map<string, number>();
  for (const entry of header.split(',')) {
    const [rawName = '', ...params] = entry.split(';');
    const name = rawName.trim().toLowerCase();
    if (!name) continue;
    let quality = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*(\S*)\s*$/i.exec(param);
      if (!m) continue;
      // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); anything else drops the entry.
      quality = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(m[1]!) ? Number(m[1]) : Number.NaN;
    }
    const coding = name === 'x-gzip' ? 'gzip' : name;
    if (!Number.isNaN(quality) && !q.has(coding)) q.set(coding, quality);
  }
  const star = q.get('*');
  const ranked = (['br', 'gzip'] as const)
    .map((coding) => ({ coding, q: q.get(coding) ?? star ?? 0 }))
    .filter((c) => c.q > 0)
    .sort((a, b) => b.q - a.q); // stable: br stays ahead of gzip on a tie
  const best = ranked[0];
  if (!best) return null;
  const identity = q.get('identity');
  return identity !== undefined && identity > best.q ? null : best.coding;
}

/** Brotli at quality 4: close to gzip's speed with smaller output; 11 (the default) is for static assets. */
const brotliOptions = (sizeHint?: number) => ({
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 4,
    [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    ...(sizeHint ? { [constants.BROTLI_PARAM_SIZE_HINT]: sizeHint } : {}),
  },
});

/** The chunks already read, then the rest of the reader; cancels the source if the consumer stops early. */
async function* rest(head: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>) {
  let finished = false;
  try {
    yield* head;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield value;
    }
    finished = true;
  } finally {
    // A client that went away must not leave the source (an open file, say) half read.
    if (!finished) await reader.cancel().catch(() => {});
  }
}

/** Compresses as bytes arrive, holding only zlib's window: a large artifact is never buffered whole. */
function compressStream(
  head: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
  coding: ContentCoding,
  sizeHint?: number,
): ReadableStream<Uint8Array> {
  const zlib = coding === 'br' ? createBrotliCompress(brotliOptions(sizeHint)) : createGzip();
  // A failure of the source, or a client hanging up, destroys both ends; the answer is cut short, which is
  // all that can be done once the status line is out. Nothing to log here: the route's own errors are.
  pipeline(Readable.from(rest(head, reader), { objectMode: false }), zlib, () => {});
  return Readable.toWeb(zlib) as unknown as ReadableStream<Uint8Array>;
}

/** Reads until `atLeast` bytes are in hand (reader left open) or the body ends short of it (reader null). */
async function readHead(body: ReadableStream<Uint8Array>, atLeast: number) {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  while (bytes < atLeast) {
    const { done, value } = await reader.read();
    if (done) return { chunks, bytes, reader: null };
    chunks.push(value);
    bytes += value.byteLength;
  }
  return { chunks, bytes, reader };
}

function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** True when this answer may be compressed at all (before looking at the client or the size). */
function eligible(res: Response): boolean {
  const h = res.headers;
  return (
    res.status >= 200 &&
    ![204, 205, 206, 304].includes(res.status) &&
    !h.has('content-encoding') &&
    !h.has('content-range') &&
    !h.has('transfer-encoding') &&
    !/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(h.get('cache-control') ?? '') &&
    isCompressibleType(h.get('content-type'))
  );
}

function addVary(headers: Headers) {
  const vary = headers.get('vary');
  if (!vary) headers.set('Vary', 'Accept-Encoding');
  else if (!/(?:^|,)\s*(?:\*|accept-encoding)\s*(?:,|$)/i.test(vary))
    headers.set('Vary', `${vary}, Accept-Encoding`);
}

function weakenEtag(headers: Headers) {
  const etag = headers.get('etag');
  if (etag && !etag.startsWith('W/')) headers.set('ETag', `W/${etag}`);
}

/**
 * A 304 stands for the 200 it confirms, so it must carry that answer's Vary (RFC 9110 §15.4.5) and a
 * validator that matches the stored copy: weak when that copy may have been compressed, since a weak tag in
 * a 304 updates a stored copy under either form of the tag while a strong one would not match a weak copy.
 * A 304 without Content-Type (a job's) is taken to stand for a compressible answer.
 */
function notModified(res: Response, coding: ContentCoding | null) {
  const type = res.headers.get('content-type');
  if (type !== null && !isCompressibleType(type)) return;
  addVary(res.headers);
  if (coding) weakenEtag(res.headers);
}

/**
 * Replaces the answer. Assigning c.res directly would copy the old answer's headers back over the new
 * one (Hono merges them), undoing the removal of Content-Length; clearing it first avoids that.
 */
function replace(
  c: Context,
  body: ConstructorParameters<typeof Response>[0],
  from: Response,
  headers: Headers,
) {
  c.res = undefined;
  c.res = new Response(body, { status: from.status, statusText: from.statusText, headers });
}

/**
 * gzip or brotli by Accept-Encoding, for compressible answers of at least `minBytes`. Left alone: HEAD,
 * 204/304, partial content (206, Content-Range), answers already encoded, marked no-transform, or of a type
 * that is not text (see COMPRESSIBLE). A body without Content-Length is read only until `minBytes` are in
 * hand (or it ends) to decide, then streamed through the compressor. A compressed answer loses
 * Content-Length and Accept-Ranges (ranges count the uncompressed bytes) and its ETag becomes weak (the
 * bytes differ from the identity answer's; If-None-Match compares weakly, so revalidation still works).
 */
export function compression(options: CompressionOptions = {}): MiddlewareHandler {
  const minBytes = options.minBytes ?? 1024;
  return async (c, next) => {
    await next();
    const res = c.res;
    if (res.status === 304) return notModified(res, negotiateEncoding(c.req.header('accept-encoding')));
    if (!eligible(res)) return;
    // The answer depends on Accept-Encoding whenever the type is compressible, also when this one is not
    // compressed (a small body, a client without gzip): caches must not hand it to a client that differs.
    addVary(res.headers);
    // HEAD: Hono drops the GET handler's body after this; starting a compressor would leave its source open.
    if (c.req.method === 'HEAD') return;
    const coding = negotiateEncoding(c.req.header('accept-encoding'));
    if (!coding || !res.body) return;

    const headers = new Headers(res.headers);
    headers.delete('content-length');
    headers.delete('accept-ranges');
    headers.set('Content-Encoding', coding);
    weakenEtag(headers);

    const declared = res.headers.get('content-length');
    if (declared !== null) {
      if (Number(declared) < minBytes) return;
      const reader = res.body.getReader();
      return replace(c, compressStream([], reader, coding, Number(declared)), res, headers);
    }

    let head: Awaited<ReturnType<typeof readHead>>;
    try {
      head = await readHead(res.body, minBytes);
    } catch (error) {
      // The body failed before anything was sent: let onError answer, without this answer's headers
      // (Hono would otherwise merge them, Content-Length included, into the problem answer).
      c.res = undefined;
      throw error;
    }
    if (head.reader) return replace(c, compressStream(head.chunks, head.reader, coding), res, headers);
    // The body ended below the threshold: hand back the same bytes, now with their length.
    const plain = new Headers(res.headers);
    plain.set('Content-Length', String(head.bytes));
    return replace(c, concat(head.chunks, head.bytes), res, plain);
  };
}
