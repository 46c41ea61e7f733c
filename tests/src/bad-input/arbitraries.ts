import { jobTypes } from '@conveyor/shared';
import fc from 'fast-check';

/** Generators of hostile input for the bad-input suite: bodies, query strings, path ids and headers. */

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Code points that make odd text: controls, NUL, lone surrogates, BOM, RTL marks, emoji, combining marks. */
const oddChar = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\u202e',
  '\u200b',
  '\u0301',
  '😀',
  '𝕏',
  '\u2028',
  '"',
  '\\',
  '/',
  '%',
  '..',
);

/** Strings mixing ordinary text with odd code points. */
export const oddString = fc
  .array(fc.oneof(fc.string({ maxLength: 8 }), oddChar, fc.string({ unit: 'binary', maxLength: 6 })), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));

const hugeString = fc.integer({ min: 10_000, max: 200_000 }).map((n) => 'x'.repeat(n));

/** Any JSON value, with odd strings among the leaves. */
const value = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue({ maxDepth: 3 }),
  oddString,
  fc.constantFrom(null, true, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, '', [], {}),
);

/** Nesting far deeper than any payload: `[[[…]]]` or `{"a":{"a":…}}`, inside a job body or alone. */
const deepNesting = fc
  .tuple(fc.integer({ min: 60, max: 20_000 }), fc.boolean(), fc.boolean())
  .map(([depth, arrays, wrapped]) => {
    const inner = arrays
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return wrapped ? `{"type":"noop","payload":{"deep":${inner}}}` : inner;
  });

/** JSON shaped like the requests the API takes, with fields of the wrong type or odd values. */
const nearMiss = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom(...jobTypes), value),
      payload: value,
      options: fc.oneof(
        value,
        fc.record(
          { priority: value, delay: value, runAt: value, maxAttempts: value, timeout: value },
          { requiredKeys: [] },
        ),
      ),
      webhook: fc.oneof(value, fc.record({ url: fc.oneof(oddString, fc.webUrl(), value) })),
      jobs: fc.oneof(value, fc.array(value, { maxLength: 4 })),
      name: fc.oneof(oddString, value),
      scopes: fc.oneof(value, fc.array(oddString, { maxLength: 3 })),
      rateLimit: value,
      maxActiveJobs: value,
    },
    { requiredKeys: [] },
  )
  // A syntactically valid request would be accepted: keep only ones that name a wrong `type` or break `payload`.
  .map((body) => JSON.stringify(body))
  .filter((text) => text !== undefined);

/** Bodies that are not JSON, or barely: truncated, binary, empty, other formats. */
const malformed = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', ' ', '{', '{"type":', '[1,]', "{'a':1}", 'null', 'NaN', '\u0000', '<xml/>', 'a=1&b=2'),
  fc.json().map((text) => text.slice(0, Math.max(0, text.length - 1))),
);

/** Every kind of request body this suite sends. */
export const body = fc.oneof(
  { weight: 3, arbitrary: nearMiss },
  { weight: 2, arbitrary: malformed },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: deepNesting },
  {
    weight: 1,
    arbitrary: hugeString.map((s) => `{"type":"noop","payload":{"x":"${s}"},"options":{"priority":"x"}}`),
  },
  { weight: 1, arbitrary: oddString.map((s) => JSON.stringify({ type: s, payload: { s } })) },
);

/** Percent-encodes the UTF-8 of `s` (a lone surrogate becomes U+FFFD, where encodeURIComponent throws). */
const pct = (s: string) =>
  [...Buffer.from(s)]
    .map((b) =>
      /[A-Za-z0-9._~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');

/** Path ids: random text, uuid-ish, traversal, encoded NUL, odd Unicode, very long. */
export const pathId = fc.oneof(
  fc.uuid().map((u) => pct(u)),
  fc.uuid().map((u) => u.toUpperCase().replace(/-/g, '')),
  oddString.map((s) => pct(s) || 'x'),
  fc.constantFrom(
    '..%2F..%2Fetc%2Fpasswd',
    '%2e%2e',
    '%2e%2e%2f%2e%2e%2f',
    '..%5C..%5Cwindows',
    '%00',
    'abc%00def',
    '%2Fetc%2Fpasswd',
    '%ZZ',
    '%FF%FE',
    '%C0%AE%C0%AE',
    '%',
    'null',
    'undefined',
    '0',
    '-1',
  ),
  fc.integer({ min: 300, max: 9_000 }).map((n) => 'a'.repeat(n)),
);

const queryName = fc.oneof(
  fc.constantFrom(
    'status',
    'type',
    'queue',
    'createdAfter',
    'createdBefore',
    'ids',
    'fields',
    'limit',
    'cursor',
    'wait',
  ),
  oddString,
);
const queryValue = fc.oneof(
  oddString,
  fc.constantFrom('0', '-1', '101', '1e3', '31', '99', 'NaN', 'queued,nope', ',,,', 'v1:x', 'djE6eHh4'),
  fc.base64String({ maxLength: 60 }),
  fc.integer({ min: 200, max: 5_000 }).map((n) => 'q'.repeat(n)),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '+99:00')),
);

/** A query string (with the leading `?`, or empty) of random and known parameter names. */
export const queryString = fc
  .array(fc.tuple(queryName, queryValue), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}` : ''));

/** Header values a Headers object accepts (no NUL, CR or LF; Latin-1 only), odd ones included. */
const headerText = fc.string({
  unit: fc
    .integer({ min: 0x09, max: 0xff })
    .map((c) => (c === 0x0a || c === 0x0d ? ' ' : String.fromCharCode(c))),
  maxLength: 80,
});

const authorization = fc.oneof(
  fc.constant<string | undefined>(undefined),
  fc.constantFrom('valid', 'admin'),
  headerText,
  headerText.map((s) => `Bearer ${s}`),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Basic dXNlcjpwYXNz',
    'bearer cvr_abc_def',
    'Bearer cvr_',
    'Bearer cvr__',
    'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    'Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo',
  ),
);

const contentType = fc.oneof(
  fc.constant<string | undefined>(undefined),
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/problem+json',
    'application/json;;;',
    'text/plain',
    'image/png',
    'image/jpeg; charset=binary',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    '*/*',
    '',
  ),
  headerText,
);

/**
 * The headers a client might send, each of them optional and possibly malformed. Content-Length is left to
 * the runtime: in process it could lie about the body, which Node's HTTP parser never lets through.
 */
export const headers = fc.record(
  {
    authorization,
    'content-type': contentType,
    'idempotency-key': fc.oneof(
      headerText,
      fc.integer({ min: 256, max: 2_000 }).map((n) => 'k'.repeat(n)),
    ),
    'if-none-match': fc.oneof(headerText, fc.constantFrom('*', '"x"', 'W/"x"', '"a", "b"', 'W/')),
    range: fc.oneof(
      headerText,
      fc.constantFrom('bytes=0-', 'bytes=-1', 'bytes=5-1', 'bytes=0-0,1-1', 'bytes=x'),
    ),
    'last-event-id': headerText,
    'x-request-id': headerText,
    accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'x'),
  },
  { requiredKeys: [] },
);
