import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalDiskStore } from '@conveyor/storage';

/** Test-only: a blob store in a fresh temporary directory. */
export function createTestStore() {
  const dir = mkdtempSync(join(tmpdir(), 'cvt-api-storage-'));
  return { dir, store: createLocalDiskStore(dir) };
}

/** A shared store for test files that do not look at storage. */
export const testStore = createTestStore().store;
