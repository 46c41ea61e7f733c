import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobTooLargeError } from './blob-store';
import { artifactKey, uploadKey } from './keys';
import { createLocalDiskStore } from './local-disk';

const dir = mkdtempSync(join(tmpdir(), 'cvt-store-'));
const store = createLocalDiskStore(dir);
const tenant = '01a20000-0000-7000-8000-000000000001';
const job = '01a20000-0000-7000-8000-000000000002';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('local-disk blob store', () => {
  it('stores a stream, reports size, sha256 and head, and reads it back whole or by range', async () => {
    const key = artifactKey(tenant, job);
    const blob = await store.put(key, Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(blob.bytes).toBe(11);
    expect(blob.sha256).toBe('b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    expect(blob.head.toString()).toBe('hello world');
    expect((await store.readAll(key)).toString()).toBe('hello world');
    expect(await text(store.read(key, { start: 6, end: 10 }))).toBe('world');
    expect(await store.stat(key)).toEqual({ bytes: 11 });
    await store.delete(key);
    expect(await store.stat(key)).toBeNull();
    await store.delete(key);
  });

  it('refuses content past maxBytes and leaves no file, not even a temporary one', async () => {
    const key = uploadKey(tenant);
    await expect(
      store.put(key, Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { maxBytes: 1_000 }),
    ).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await store.stat(key)).toBeNull();
    expect(readdirSync(join(dir, tenant, 'uploads'))).toEqual([]);
  });

  it('accepts only server-made keys: no traversal, no absolute paths, no user names', async () => {
    for (const key of [
      '../etc/passwd',
      '/etc/passwd',
      `${tenant}/../../x`,
      `${tenant}/uploads/photo.PNG`,
      'a',
      '',
    ]) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(/invalid storage key/);
      expect(() => store.read(key)).toThrow(/invalid storage key/);
    }
  });
});
