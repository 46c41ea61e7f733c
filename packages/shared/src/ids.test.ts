import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7, uuidv7Floor, uuidv7Time } from './ids';

/**
 * uuidv7() keeps its last millisecond and counter in module state, so a test that needs a fresh millisecond
 * takes one from this clock, which only moves forward and stays ahead of anything made earlier in the file.
 */
let clock = Date.now() + 3_600_000;
const freshMs = (): number => {
  clock += 1_000_000;
  return clock;
};

const UUIDV7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('sets the RFC 9562 version (7) and variant (10xx) bits', () => {
    for (let i = 0; i < 1_000; i++) {
      const id = uuidv7();
      expect(id).toMatch(UUIDV7_RE);
      const bytes = Buffer.from(id.replace(/-/g, ''), 'hex');
      expect(bytes[6]! >> 4).toBe(0x7);
      expect(bytes[8]! >> 6).toBe(0b10);
      expect(isUuid(id)).toBe(true);
    }
  });

  it('is strictly increasing across 10k calls within one millisecond', () => {
    const ms = freshMs();
    const ids = Array.from({ length: 10_000 }, () => uuidv7(ms));
    const firstOutOfOrder = ids.findIndex((id, i) => i > 0 && !(id > ids[i - 1]!));
    expect(firstOutOfOrder).toBe(-1);
    expect(new Set(ids).size).toBe(ids.length);
    // The 12-bit counter holds 4096 ids per millisecond; past that, ids borrow the following milliseconds.
    expect(uuidv7Time(ids[0]!).getTime()).toBe(ms);
    expect(uuidv7Time(ids[4095]!).getTime()).toBe(ms);
    expect(uuidv7Time(ids[4096]!).getTime()).toBe(ms + 1);
    expect(ids.every((id) => UUIDV7_RE.test(id))).toBe(true);
  });

  it('keeps increasing when the clock steps backwards', () => {
    const ms = freshMs();
    const first = uuidv7(ms);
    const second = uuidv7(ms - 5_000);
    expect(second > first).toBe(true);
  });

  it('carries its creation millisecond, which uuidv7Time reads back', () => {
    for (let i = 0; i < 100; i++) {
      const ms = freshMs() + i;
      expect(uuidv7Time(uuidv7(ms)).getTime()).toBe(ms);
    }
  });
});

describe('uuidv7Floor', () => {
  it('sorts at or below every id made in its millisecond and above every id of the one before', () => {
    const earlier = freshMs();
    const earlierIds = Array.from({ length: 5_000 }, () => uuidv7(earlier));
    const lastEarlier = earlierIds.at(-1)!;
    // 5000 ids overflow one millisecond's counter into the next: start the later ms after them.
    const ms = uuidv7Time(lastEarlier).getTime() + 1;
    const floor = uuidv7Floor(new Date(ms));
    const ids = Array.from({ length: 100 }, () => uuidv7(ms));
    expect(floor > lastEarlier).toBe(true);
    for (const id of ids) expect(id >= floor).toBe(true);
    expect(uuidv7Floor(new Date(ms + 1)) > ids.at(-1)!).toBe(true);
  });

  it('is the smallest v7 id of its millisecond and round-trips through uuidv7Time', () => {
    const ms = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const floor = uuidv7Floor(new Date(ms));
    expect(floor).toMatch(UUIDV7_RE);
    expect(floor.endsWith('-7000-8000-000000000000')).toBe(true);
    expect(uuidv7Time(floor).getTime()).toBe(ms);
  });

  it('orders like the times it is made from', () => {
    const times = [0, 1, 999, 1_000, Date.UTC(2000, 0, 1), Date.UTC(2025, 5, 1), Date.UTC(2200, 0, 1)];
    const floors = times.map((ms) => uuidv7Floor(new Date(ms)));
    expect([...floors].sort()).toEqual(floors);
    expect(new Set(floors).size).toBe(floors.length);
  });

  it('clamps times before the epoch to zero', () => {
    expect(uuidv7Floor(new Date(-1_000))).toBe('00000000-0000-7000-8000-000000000000');
  });
});
