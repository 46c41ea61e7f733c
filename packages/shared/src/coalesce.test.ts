import { describe, expect, it } from 'vitest';
import { createCoalescer } from './coalesce';

describe('createCoalescer', () => {
  it('hands the items of one turn to one flush and answers each at its index', async () => {
    const batches: number[][] = [];
    const c = createCoalescer(async (items: number[]) => {
      batches.push(items);
      return items.map((n) => n * 10);
    });
    const results = await Promise.all([1, 2, 3].map((n) => c.add(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(await c.add(4)).toBe(40);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('never puts more than maxBatch items in one flush', async () => {
    const sizes: number[] = [];
    const c = createCoalescer(
      async (items: number[]) => {
        sizes.push(items.length);
        return items;
      },
      { maxBatch: 4 },
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.add(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('retries a failed batch one item at a time, so only the bad item fails', async () => {
    const c = createCoalescer(async (items: number[]) => {
      if (items.includes(13)) throw new Error('unlucky');
      return items;
    });
    const settled = await Promise.allSettled([1, 13, 2].map((n) => c.add(n)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error('unlucky'));
  });
});
