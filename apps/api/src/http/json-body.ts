import { AppError, type FieldError, fieldErrors, validationFailed } from '@conveyor/shared';
import type { Context } from 'hono';
import type { z } from 'zod';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Reads the body as JSON (415 for another media type, 400 for broken JSON) and validates it (422). */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const raw = await readRawJson(c);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw validationFailed(fieldErrors(parsed.error.issues));
  return parsed.data;
}

export async function readRawJson(c: Context): Promise<unknown> {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new AppError('unsupported_media_type', 415, 'Send the body as application/json.');
  }
  const text = await c.req.text();
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

/** Methods whose requests are read without a body: no route reads one, so no limit needs to watch for it. */
const BODILESS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const readsNoBody = (method: string) => BODILESS.has(method);
