import { pino } from 'pino';
import { catalog, isJobType } from './catalog/index';

/** What a redacted value is replaced with, in payloads as in the logger's own redaction. */
export const REDACTED = '[redacted]';

/**
 * Key names that look like secrets wherever they appear, at any depth, whatever the kind says: compared
 * lowercased with `-` and `_` removed, as substrings (so `smtpPassword`, `refresh_token`, `X-Api-Key` match).
 */
const SECRET_KEY_PARTS = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'authorization',
  'privatekey',
  'credential',
  'cookie',
];

export const isSecretKey = (key: string): boolean => {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEY_PARTS.some((part) => k.includes(part));
};

/** Deeper than any payload the API accepts in practice; beyond it the value is dropped, not walked. */
const MAX_DEPTH = 32;

/**
 * A path of a kind's `sensitive` list split into segments: `auth.password` → ['auth', 'password'];
 * `*` matches any key or list index.
 */
const segmentsOf = (path: string) => path.split('.');

/**
 * A copy of `value` with every secret-looking key's value, and every value at one of `paths`, replaced by
 * REDACTED. The original is not touched. Strings found under redacted spots are added to `found`, so text
 * elsewhere (an error message quoting the payload) can be scrubbed of them too.
 */
export function redactValue(value: unknown, paths: readonly string[] = [], found?: Set<string>): unknown {
  const patterns = paths.map(segmentsOf);
  const seen = new WeakSet<object>();

  const collect = (v: unknown, depth: number): void => {
    if (!found || depth > MAX_DEPTH) return;
    if (typeof v === 'string') found.add(v);
    else if (typeof v === 'number' || typeof v === 'bigint') found.add(String(v));
    else if (v && typeof v === 'object') for (const item of Object.values(v)) collect(item, depth + 1);
  };

  const walk = (v: unknown, live: string[][], depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (depth > MAX_DEPTH || seen.has(v)) return REDACTED;
    seen.add(v);
    const entries = Array.isArray(v) ? v.map((item, i) => [String(i), item] as const) : Object.entries(v);
    const out = entries.map(([key, item]) => {
      const next = live.filter((p) => p[0] === '*' || p[0] === key);
      if (isSecretKey(key) || next.some((p) => p.length === 1)) {
        collect(item, depth);
        return [key, REDACTED] as const;
      }
      return [
        key,
        walk(
          item,
          next.map((p) => p.slice(1)),
          depth + 1,
        ),
      ] as const;
    });
    seen.delete(v);
    return Array.isArray(v) ? out.map(([, item]) => item) : Object.fromEntries(out);
  };

  return walk(value, patterns, 0);
}

/** The payload fields a kind marks sensitive (JobKind.sensitive); none for an unknown type. */
export const sensitivePathsOf = (type: string): readonly string[] =>
  isJobType(type) ? ((catalog[type] as { sensitive?: readonly string[] }).sensitive ?? []) : [];

/**
 * A payload (or result) as it may appear in a log line: the fields its kind marks sensitive and every
 * secret-looking key replaced by REDACTED. Use it wherever a payload is logged.
 */
export const redactPayload = (type: string, payload: unknown): unknown =>
  redactValue(payload, sensitivePathsOf(type));

/** Values shorter than this are not scrubbed from text: `1` or `no` would censor half of every message. */
const MIN_SCRUB_LENGTH = 4;

/**
 * The values redactPayload removes from this payload, for scrubbing free text (error messages and stacks)
 * that a handler may have built from them. Longest first, so a value containing another is replaced whole.
 */
export function sensitiveValues(type: string, payload: unknown): string[] {
  const found = new Set<string>();
  redactValue(payload, sensitivePathsOf(type), found);
  return [...found].filter((v) => v.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each of `values` replaced by REDACTED. */
export function scrubText(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
  return out;
}

/** A copy of `value` with `values` scrubbed from every string in it; an error becomes what pino logs for it. */
function scrubDeep(value: unknown, values: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, values);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  const plain = value instanceof Error ? pino.stdSerializers.err(value) : value;
  if (Array.isArray(plain)) return plain.map((v) => scrubDeep(v, values, depth + 1));
  // for…in, not Object.entries: pino's serialized error keeps `type` and `stack` on its prototype chain.
  const out: Record<string, unknown> = {};
  for (const key in plain) out[key] = scrubDeep((plain as Record<string, unknown>)[key], values, depth + 1);
  return out;
}

/**
 * Child-logger options for the logger of one job: every string a line carries (an error's message and stack
 * too) has the job's sensitive values replaced by REDACTED, so a handler's error that quotes its payload
 * does not leak it. `err` is left to its serializer, which scrubs what pino's own would log; the message
 * string itself is not scrubbed: put data in the object, not the text.
 */
export function scrubbingLoggerOptions(values: readonly string[]): pino.ChildLoggerOptions {
  return {
    formatters: {
      log: (object: object) => {
        const { err, ...rest } = object as Record<string, unknown>;
        const out = scrubDeep(rest, values, 0) as Record<string, unknown>;
        return err === undefined ? out : { err, ...out };
      },
    },
    serializers: { err: (error: unknown) => scrubDeep(error, values, 0) },
  };
}
