import { AppError, fieldErrors, validationFailed } from '@conveyor/shared';
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
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('invalid_json', 400, 'The body is not valid JSON.');
  }
}
