import { describe, expect, it } from 'vitest';
import { sniffImageType } from './sniff';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('sniffImageType', () => {
  it('recognises each accepted image type by its magic bytes', () => {
    expect(sniffImageType(bytes([0x89], 'PNG\r\n\x1a\n', 'rest'))).toBe('image/png');
    expect(sniffImageType(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(bytes('GIF89a'))).toBe('image/gif');
    expect(sniffImageType(bytes([0, 0, 0, 0x1c], 'ftypavif'))).toBe('image/avif');
    expect(sniffImageType(bytes('II*\0'))).toBe('image/tiff');
    expect(sniffImageType(bytes('MM\0*'))).toBe('image/tiff');
  });

  it('recognises nothing else: text, HTML, a truncated header, an empty file', () => {
    for (const head of [
      bytes('<svg xmlns'),
      bytes('<html>'),
      bytes([0x89], 'PN'),
      Buffer.alloc(0),
      bytes('RIFF1234WAVE'),
    ]) {
      expect(sniffImageType(head)).toBeNull();
    }
  });
});
