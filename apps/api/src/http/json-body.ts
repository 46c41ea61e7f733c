import { IncomingMessage } from 'node:http';
import { AppError, type FieldError, fieldErrors, validationFailed } from '@conveyor/shared';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from '../deps';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Reads the body as JSON (415 for another media type, 400 for broken JSON) and validates it (422). */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const raw = await readRawJson(c);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationFailed(fieldErrors(parsed.error.issues));
  return parsed.data;
}

export async function readRawJson(c: Context<AppEnv>): Promise<unknown> {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new AppError('unsupported_media_type', 415, 'Send the body as application/json.');
  }
  const incoming = nodeIncoming(c);
  const text = incoming ? await readIncoming(incoming, c.get('bodyLimit')) : await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('invalid_json', 400, 'The body is not valid JSON.');
  }
  const problem = unstorable(value);
  if (problem) throw validationFailed([problem], 'The body holds a value that cannot be stored.');
  return value;
}

/**
 * Deepest nesting of objects and arrays a body may have: ample for any payload, and far below the few
 * thousand levels at which the recursive serialisers behind us (request hash, jsonb encoder) overflow.
 */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** False for U+0000 and unpaired surrogates: legal JSON escapes that Postgres text and jsonb cannot store. */
const storable = (text: string) => !text.includes('\u0000') && !LONE_SURROGATE.test(text);

/** The first place in a parsed body that Postgres could not store, or null. Iterative: depth is untrusted. */
function unstorable(root: unknown): FieldError | null {
  const pending: Array<{ value: unknown; path: string[] }> = [{ value: root, path: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      if (!storable(value)) return { path: path.join('.'), message: 'contains U+0000 or a lone surrogate' };
    } else if (value !== null && typeof value === 'object') {
      if (path.length >= MAX_JSON_DEPTH) {
        return { path: path.join('.'), message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
      }
      for (const [key, child] of Object.entries(value)) {
        // The key itself is not echoed: the path stops at the object that holds it.
        if (!storable(key))
          return { path: path.join('.'), message: 'has a key with U+0000 or a lone surrogate' };
        pending.push({ value: child, path: [...path, key] });
      }
    }
  }
  return null;
}

/**
 * The Node request under a request @hono/node-server serves (none under `app.request()` in tests). Reading
 * the body from it directly skips the WHATWG Request that `c.req.text()` would build (headers copy,
 * AbortSignal, web stream): 12 % of a submit's CPU in a profile.
 */
export function nodeIncoming(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

/** 413, closing the connection: the rest of an oversized body is not worth reading to keep it alive. */
export const bodyTooLarge = (limit: number) =>
  new AppError('payload_too_large', 413, `The body is larger than ${limit} bytes.`, {
    headers: { Connection: 'close' },
  });

/** The whole body as UTF-8, refused with 413 once it passes `limit` bytes, chunked or not. */
function readIncoming(incoming: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error?: AppError) => {
      incoming.off('data', onData).off('end', onEnd).off('aborted', onAborted).off('error', onAborted);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, size).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Not destroyed: the 413 must still go out. Node discards the rest once the answer is sent.
        incoming.pause();
        done(bodyTooLarge(limit));
      } else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onAborted = () => done(new AppError('invalid_json', 400, 'The body ended before it was complete.'));
    incoming.on('data', onData).on('end', onEnd).on('aborted', onAborted).on('error', onAborted);
  });
}

/** Methods whose requests are read without a body: no route reads one, so no limit needs to watch for it. */
const BODILESS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const readsNoBody = (method: string) => BODILESS.has(method);
