import { describe, expect, it } from 'vitest';
import { parseRange } from './range';

describe('parseRange', () => {
  it('serves the whole body when there is no Range header', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('', 100)).toBeNull();
  });

  it.each([
    ['bytes=0-9', 0, 9],
    ['bytes=10-19', 10, 19],
    ['bytes=99-99', 99, 99],
    ['bytes=0-0', 0, 0],
  ])('answers the closed range %s as written', (header, start, end) => {
    expect(parseRange(header, 100)).toEqual({ start, end });
  });

  it('clamps an end past the last byte to the last byte', () => {
    expect(parseRange('bytes=90-1000', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=0-99999999999999999999999', 100)).toEqual({ start: 0, end: 99 });
  });

  it('reads an open range as "from here to the end"', () => {
    expect(parseRange('bytes=10-', 100)).toEqual({ start: 10, end: 99 });
    expect(parseRange('bytes=0-', 1)).toEqual({ start: 0, end: 0 });
  });

  it('reads a suffix as the last N bytes, or all of them when there are fewer', () => {
    expect(parseRange('bytes=-5', 100)).toEqual({ start: 95, end: 99 });
    expect(parseRange('bytes=-100', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });

  it.each([
    ['a start at the size', 'bytes=100-'],
    ['a start past the size', 'bytes=150-200'],
    ['a huge start', 'bytes=99999999999999999999-'],
    ['an empty suffix', 'bytes=-0'],
    ['an end before the start', 'bytes=10-5'],
  ])('answers unsatisfiable for %s', (_, header) => {
    expect(parseRange(header, 100)).toBe('unsatisfiable');
  });

  it('never names a byte of an empty body: a suffix serves it whole, any start is unsatisfiable', () => {
    expect(parseRange('bytes=-5', 0)).toBeNull();
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-9', 0)).toBe('unsatisfiable');
  });

  it('accepts the unit in any case and surrounding whitespace', () => {
    expect(parseRange('Bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('  BYTES=0-9 ', 100)).toEqual({ start: 0, end: 9 });
  });

  it.each([
    ['several ranges', 'bytes=0-1,5-6'],
    ['several ranges with spaces', 'bytes=0-1, 5-'],
    ['another unit', 'items=0-9'],
    ['no positions at all', 'bytes=-'],
    ['non-digits', 'bytes=a-b'],
    ['a negative start', 'bytes=--5'],
    ['a decimal', 'bytes=1.5-9'],
    ['no unit', '0-9'],
    ['spaces inside', 'bytes = 0-9'],
  ])('ignores %s and serves the whole body', (_, header) => {
    expect(parseRange(header, 100)).toBeNull();
  });
});
