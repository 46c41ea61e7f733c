/**
 * Just enough of RFC 2045–2047 to assert on what a mailer sent: unfolded headers (encoded words decoded),
 * multipart bodies split into parts, and 7bit, quoted-printable or base64 bodies decoded to text.
 */
export interface Mime {
  /** Header lines as sent (unfolded, not decoded), in order. */
  headerLines: string[];
  /** The decoded value of the first header named `name` (case-insensitive). */
  header(name: string): string | undefined;
  /** The bare media type, lower-case: `multipart/alternative`, `text/plain`. */
  type: string;
  /** The decoded body of a leaf part; '' for a multipart one. */
  body: string;
  parts: Mime[];
  /** Every leaf part, depth first. */
  leaves(): Mime[];
}

const decodeQp = (text: string) =>
  Buffer.from(
    text
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');

/** Decodes `=?UTF-8?Q?...?=` and `=?UTF-8?B?...?=` words; whitespace between two encoded words is dropped. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BQ]\?[^?]*\?=)\s+(?==\?)/gi, '$1')
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQp(text.replace(/_/g, ' ')),
    );
}

export function parseMime(raw: string): Mime {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split === -1 ? raw : raw.slice(0, split);
  const rest = split === -1 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headerLines = head.split(/\r?\n(?![ \t])/).map((line) => line.replace(/\r?\n[ \t]+/g, ' '));
  const header = (name: string) => {
    const line = headerLines.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    return line === undefined ? undefined : decodeWords(line.slice(name.length + 1).trim());
  };
  const contentType = header('content-type') ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  let body = '';
  let parts: Mime[] = [];
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) throw new Error(`multipart without a boundary: ${contentType}`);
    const sections = rest.split(`--${boundary}`);
    // sections[0] is the preamble; the last one starts with the closing "--".
    parts = sections
      .slice(1)
      .filter((s) => !s.startsWith('--'))
      .map((s) => parseMime(s.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
  } else {
    const encoding = (header('content-transfer-encoding') ?? '7bit').toLowerCase();
    body =
      encoding === 'quoted-printable'
        ? decodeQp(rest)
        : encoding === 'base64'
          ? Buffer.from(rest.replace(/\s+/g, ''), 'base64').toString('utf8')
          : rest;
  }
  const mime: Mime = {
    headerLines,
    header,
    type,
    body,
    parts,
    leaves: () => (parts.length ? parts.flatMap((p) => p.leaves()) : [mime]),
  };
  return mime;
}
