import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { JobError, PermanentError } from '@conveyor/shared';
import { type ImageType, sniffImageType } from '@conveyor/storage';
import type { Allowlist } from './allowlist';
import { resolveTarget, type Target } from './resolve';

export interface SafeFetchOptions {
  allowlist: Allowlist;
  /** Largest body accepted, in bytes; checked against Content-Length and again while streaming. */
  maxBytes: number;
  /** Time for the whole fetch (every hop, DNS included), in ms. */
  timeoutMs: number;
  /** Redirects followed before giving up; default 5. */
  maxRedirects?: number;
  /** The job's signal: cancel, job timeout or shutdown stop the fetch at once. */
  signal?: AbortSignal;
}

export interface FetchedImage {
  data: Buffer;
  /** Sniffed from the bytes; the server's Content-Type is not trusted. */
  contentType: ImageType;
  /** The URL the bytes came from, after redirects. */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Enough bytes for every signature sniffImageType knows. */
const SNIFF_BYTES = 16;

/** Connects to the address already checked, never to a fresh DNS answer. */
const pinned =
  (target: Target): LookupFunction =>
  (_host, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };

const checkProtocol = (url: URL) => {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new PermanentError('fetch_denied', `refusing to fetch a ${url.protocol} URL: http and https only`);
};

function request(url: URL, target: Target, signal: AbortSignal): Promise<IncomingMessage> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const options: https.RequestOptions = {
    protocol: url.protocol,
    hostname: host,
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    headers: { accept: 'image/*', 'accept-encoding': 'identity', 'user-agent': 'conveyor-fetch/1' },
    // A fresh socket per hop: a pooled one might lead to an address other than this hop's.
    agent: false,
    lookup: pinned(target),
    signal,
  };
  if (target.address !== host) options.servername = host;
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(options, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Reads the body up to the cap, sniffing the first bytes and giving up early on anything not an image. */
async function readImage(res: IncomingMessage, maxBytes: number, url: string): Promise<FetchedImage> {
  const declared = Number(res.headers['content-length']);
  if (declared > maxBytes) {
    res.destroy();
    throw new PermanentError(
      'fetch_too_large',
      `the response is ${declared} bytes; the limit is ${maxBytes}`,
    );
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  let contentType: ImageType | null = null;
  const sniff = (head: Buffer) => {
    contentType = sniffImageType(head);
    if (!contentType) {
      res.destroy();
      throw new PermanentError(
        'fetch_not_image',
        'the response is not a png, jpeg, webp, gif, avif or tiff image',
      );
    }
  };
  for await (const chunk of res as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      res.destroy();
      throw new PermanentError('fetch_too_large', `the response is over the ${maxBytes}-byte limit`);
    }
    chunks.push(chunk);
    if (!contentType && bytes >= SNIFF_BYTES) sniff(Buffer.concat(chunks));
  }
  const data = Buffer.concat(chunks);
  if (!contentType) sniff(data);
  return { data, contentType: contentType!, url };
}

function statusError(status: number, url: URL): Error {
  const message = `${url.host} answered ${status}`;
  // Server trouble and throttling may pass; other client errors will not.
  if (status >= 500 || status === 408 || status === 429) return new JobError('fetch_failed', message);
  return new PermanentError('fetch_failed', message);
}

/**
 * Fetches an image from a URL a tenant supplied, without letting that URL reach the worker's own network:
 * http/https only; each hop's host resolved once, checked against the denied ranges (unless allowlisted)
 * and connected to by that address; redirects followed by hand and checked again; the body capped in size
 * and the whole fetch in time; the content sniffed. Refusals, oversized or non-image bodies and client
 * errors throw PermanentError; network trouble, 5xx and the fetch timeout throw JobError (retried).
 */
export async function fetchImage(input: string, options: SafeFetchOptions): Promise<FetchedImage> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const maxRedirects = options.maxRedirects ?? 5;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new PermanentError('fetch_denied', 'the source URL is not a valid URL');
  }
  try {
    for (let hop = 0; ; hop++) {
      checkProtocol(url);
      const target = await resolveTarget(url, options.allowlist, signal);
      const res = await request(url, target, signal);
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        res.destroy();
        const location = res.headers.location;
        if (!location)
          throw new PermanentError('fetch_failed', `${url.host} answered ${status} without a Location`);
        if (hop >= maxRedirects)
          throw new PermanentError('fetch_failed', `more than ${maxRedirects} redirects`);
        url = new URL(location, url);
        continue;
      }
      if (status !== 200) {
        res.destroy();
        throw statusError(status, url);
      }
      return await readImage(res, options.maxBytes, url.href);
    }
  } catch (error) {
    if (error instanceof PermanentError || error instanceof JobError) throw error;
    // The job's own stop (cancel, job timeout, shutdown) is the runner's to report.
    if (options.signal?.aborted) throw options.signal.reason;
    if (deadline.aborted)
      throw new JobError('fetch_timeout', `the fetch took longer than ${options.timeoutMs} ms`, {
        cause: error,
      });
    if (error instanceof TypeError && (error as NodeJS.ErrnoException).code === 'ERR_INVALID_URL')
      throw new PermanentError('fetch_failed', 'a redirect pointed to an invalid URL', { cause: error });
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new JobError('fetch_failed', `fetching from ${url.host} failed (${code})`, { cause: error });
  }
}
