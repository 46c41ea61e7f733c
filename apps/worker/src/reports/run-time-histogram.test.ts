import { describe, expect, it } from 'vitest';
import { RUN_TIME_BUCKETS, RunTimeHistogram } from './run-time-histogram';

/** The exact nearest-rank percentile, as Postgres' percentile_disc computes it. */
const exact = (sorted: number[], p: number) => sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;

/** A deterministic pseudo-random sequence in [0, 1) (mulberry32), so failures can be replayed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RunTimeHistogram', () => {
  it('has no percentiles before the first run', () => {
    const h = new RunTimeHistogram();
    expect([h.count, h.percentile(0.5), h.percentile(0.95)]).toEqual([0, null, null]);
  });

  it('is exact for a single value and clamps to the smallest and largest run', () => {
    const h = new RunTimeHistogram();
    h.add(1234.5);
    expect([h.percentile(0.5), h.percentile(0.95)]).toEqual([1234.5, 1234.5]);
    h.add(10);
    expect(h.percentile(0.5)).toBe(10);
    expect(h.percentile(1)).toBe(1234.5);
  });

  it.each([
    ['log-uniform 1 ms … 1 h', (r: () => number) => Math.exp(r() * Math.log(3_600_000))],
    ['uniform 0 … 50 ms', (r: () => number) => r() * 50],
    ['two clusters', (r: () => number) => (r() < 0.9 ? 20 + r() * 5 : 30_000 + r() * 1_000)],
  ])('estimates p50 and p95 within 0.5 %% (%s)', (_name, draw) => {
    const next = random(42);
    const h = new RunTimeHistogram();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = draw(next);
      values.push(v);
      h.add(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [0.5, 0.95, 0.99]) {
      const truth = exact(values, p);
      // Half a bucket (0.5 %), or 0.5 ms below 1 ms, plus the 0.05 ms of rounding to 0.1 ms.
      const tolerance = Math.max(truth * 0.005, truth < 1 ? 0.5 : 0) + 0.05;
      expect(Math.abs(h.percentile(p)! - truth), `p${p * 100}: exact ${truth}`).toBeLessThanOrEqual(
        tolerance,
      );
    }
  });

  it('counts negative runs (clock skew) as 0 and overlong ones in the last bucket', () => {
    const h = new RunTimeHistogram();
    h.add(-5);
    h.add(2 ** 40);
    expect(h.count).toBe(2);
    expect(h.percentile(0.5)).toBeLessThanOrEqual(0.5);
    expect(h.percentile(1)).toBe(2 ** 40);
    expect(RUN_TIME_BUCKETS).toBe(2161);
  });
});
