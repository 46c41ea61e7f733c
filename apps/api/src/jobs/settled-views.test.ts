import type { JobView } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { etagOf } from '../http/etag';
import { createSettledViews, readViewOf } from './settled-views';

const view = (id: string, status: JobView['status']) =>
  ({ id, status, type: 'noop', queue: 'default', payload: {} }) as unknown as JobView;

describe('settled views (in-process cache of succeeded jobs)', () => {
  it('keeps succeeded jobs only, with the body and its ETag', () => {
    const cache = createSettledViews();
    for (const status of ['queued', 'running', 'retrying', 'failed', 'canceled'] as const)
      cache.offer('t1', readViewOf(view(`j-${status}`, status)));
    expect(cache.size).toBe(0);
    cache.offer('t1', readViewOf(view('j1', 'succeeded')));
    const hit = cache.get('t1', 'j1');
    expect(hit?.json).toBe(JSON.stringify(view('j1', 'succeeded')));
    expect(hit?.etag).toBe(etagOf(hit?.json ?? ''));
  });

  it("answers another tenant's job as a miss", () => {
    const cache = createSettledViews();
    cache.offer('t1', readViewOf(view('j1', 'succeeded')));
    expect(cache.get('t2', 'j1')).toBeUndefined();
    expect(cache.get('t1', 'j1')).toBeDefined();
  });

  it('holds at most maxEntries, dropping the oldest first', () => {
    const cache = createSettledViews(2);
    for (const id of ['a', 'b', 'c']) cache.offer('t', readViewOf(view(id, 'succeeded')));
    expect(cache.size).toBe(2);
    expect(cache.get('t', 'a')).toBeUndefined();
    expect(cache.get('t', 'c')).toBeDefined();
  });
});
