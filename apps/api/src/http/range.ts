/**
 * Parses a single-range `Range: bytes=…` header (RFC 9110 §14.1.2) against a size. Returns null to serve
 * the whole body (no header, several ranges, or a syntax we ignore, as the RFC allows), or
 * 'unsatisfiable' for a range that starts past the end.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  // Range units are case-insensitive (RFC 9110 §14.1).
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const [, from, to] = match;
  if (from === '') {
    // A suffix: the last N bytes, or all of them when there are fewer.
    const n = Number(to);
    if (n === 0) return 'unsatisfiable';
    // An empty body has no byte to name: serve it whole (a 200 with no content), never a range ending at -1.
    if (size === 0) return null;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
