import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BlobStore, BlobTooLargeError, type StoredBlob } from './blob-store';

/** Keys are made by the server (see keys.ts); anything else is refused before it reaches the filesystem. */
const KEY = /^[a-z0-9-]+(?:\/[a-z0-9-]+){1,5}$/;
const HEAD_BYTES = 64;

/** A BlobStore on a local directory (`STORAGE_DIR`), shared by the API and the workers (a volume in production). */
export function createLocalDiskStore(root: string): BlobStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    if (!KEY.test(key)) throw new Error(`invalid storage key ${JSON.stringify(key)}`);
    const path = resolve(base, key);
    if (!path.startsWith(base + sep)) throw new Error('storage key escapes the storage directory');
    return path;
  };

  return {
    async put(key, source, options = {}) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temp = join(dirname(path), `.tmp-${randomUUID()}`);
      const hash = createHash('sha256');
      const head: Buffer[] = [];
      let headBytes = 0;
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          if (options.maxBytes !== undefined && bytes > options.maxBytes)
            return done(new BlobTooLargeError(options.maxBytes));
          hash.update(chunk);
          if (headBytes < HEAD_BYTES) {
            head.push(chunk.subarray(0, HEAD_BYTES - headBytes));
            headBytes += Math.min(chunk.length, HEAD_BYTES - headBytes);
          }
          done(null, chunk);
        },
      });
      const input = source instanceof Uint8Array ? Readable.from([Buffer.from(source)]) : source;
      try {
        await pipeline(input, meter, createWriteStream(temp, { flags: 'wx' }));
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      return { bytes, sha256: hash.digest('hex'), head: Buffer.concat(head) } satisfies StoredBlob;
    },
    read: (key, range) => createReadStream(pathOf(key), range ? { start: range.start, end: range.end } : {}),
    readAll: (key) => readFile(pathOf(key)),
    async stat(key) {
      try {
        return { bytes: (await stat(pathOf(key))).size };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    delete: (key) => rm(pathOf(key), { force: true }),
  };
}
