import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../bad-input/support';
import { createHarness, type Harness } from '../helpers/harness';
import { onePixelPng } from './fixtures';

/**
 * Path traversal on every file route: ids that try to leave the storage directory answer 404 (or another 4xx)
 * and nothing outside it is read or written. A sentinel file beside the storage directory would show a read.
 */

let h: Harness;
let sentinelDir: string;
const SENTINEL = `sentinel-${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  h = await createHarness();
  // Beside the storage directory, where `../<name>` from it would land.
  sentinelDir = join(dirname(h.storageDir), `${SENTINEL}-dir`);
  mkdirSync(sentinelDir, { recursive: true });
  writeFileSync(join(dirname(h.storageDir), SENTINEL), SENTINEL);
  writeFileSync(join(sentinelDir, 'secret'), SENTINEL);
});

afterAll(async () => {
  rmSync(sentinelDir, { recursive: true, force: true });
  rmSync(join(dirname(h.storageDir), SENTINEL), { force: true });
  await h?.close();
});

const ATTEMPTS = [
  '..%2F..%2Fetc%2Fpasswd',
  '..%2f..%2f..%2f..%2fetc%2fpasswd',
  '%2e%2e',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%252e%252e%252f',
  '..',
  '.',
  '%2Fetc%2Fpasswd',
  '%2F%2Fetc%2Fpasswd',
  'C%3A%5CWindows%5Cwin.ini',
  '..%5C..%5C..%5Cwindows%5Cwin.ini',
  '%5C%5Cserver%5Cshare',
  '%00',
  'abc%00..%2F..%2Fetc%2Fpasswd',
  '..%00%2F',
  '%C0%AE%C0%AE%C0%AF',
  'file%3A%2F%2F%2Fetc%2Fpasswd',
];
const sentinelNames = () => [`..%2F${SENTINEL}`, `..%2F${SENTINEL}-dir%2Fsecret`];

describe('path traversal', () => {
  it('answers 404 on GET /v1/artifacts/{id} and GET /v1/jobs/{id}/artifacts and reads nothing', async () => {
    for (const id of [...ATTEMPTS, ...sentinelNames()]) {
      for (const path of [`/v1/artifacts/${id}`, `/v1/jobs/${id}/artifacts`]) {
        const res = await h.request('GET', path);
        const text = await res.text();
        expect(res.status, path).toBe(404);
        expect(res.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
        expect(text).not.toContain(SENTINEL);
        expect(text).not.toMatch(/root:|\[fonts\]/);
      }
    }
  });

  it('stores an upload only under a server-made key, whatever the path or headers say', async () => {
    const png = await onePixelPng();
    let stored = 0;
    const upload = async (path: string, headers: Record<string, string> = {}) => {
      const res = await h.app.request(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.key}`, 'content-type': 'image/png', ...headers },
        body: png,
      });
      expect(res.status, path).toBeLessThan(500);
      // `/v1/uploads/.` is `/v1/uploads/` once the URL is resolved: the route itself, storing as usual.
      if (res.status === 201) stored++;
      else expect(res.status, path).toBeGreaterThanOrEqual(400);
      await res.body?.cancel();
    };
    for (const id of [...ATTEMPTS, ...sentinelNames()]) await upload(`/v1/uploads/${id}`);
    // The route itself, with a would-be file name in every header a client could use to steer it.
    await upload('/v1/uploads', {
      'content-type': 'image/png; name="../../x.png"',
      'content-disposition': `attachment; filename="../${SENTINEL}"`,
      'x-filename': `../${SENTINEL}`,
    });
    expect(stored).toBeGreaterThanOrEqual(1);
    const files = filesUnder(h.storageDir);
    expect(files).toHaveLength(stored);
    for (const f of files) expect(f).toMatch(new RegExp(`^${h.tenantId}/uploads/[0-9a-f-]{36}$`));
    // The sentinels beside storage are as they were: nothing written over them.
    expect(filesUnder(sentinelDir)).toEqual(['secret']);
  });
});
