import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { insertUpload, upsertArtifact } from '@conveyor/db';
import { artifactKey, uploadKey } from '@conveyor/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

/** Uploads and artifacts expire after the configured retention and the sweeper removes rows and bytes. */
describe('file retention', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  async function file(kind: 'upload' | 'artifact', expiresAt: Date, jobId: string) {
    const key = kind === 'upload' ? uploadKey(h.tenantId) : artifactKey(h.tenantId, jobId);
    const blob = await h.store.put(key, Buffer.from(`${kind} bytes`));
    const common = {
      tenantId: h.tenantId,
      contentType: 'text/plain',
      bytes: blob.bytes,
      sha256: blob.sha256,
      storageKey: key,
      expiresAt,
    };
    const row =
      kind === 'upload'
        ? await insertUpload(h.db.db, common)
        : (
            await upsertArtifact(h.db.db, {
              ...common,
              jobId,
              name: `a-${expiresAt.getTime()}`,
              metadata: {},
            })
          ).row;
    return { id: row.id, path: join(h.storageDir, key) };
  }

  it('removes expired uploads and artifacts, rows and bytes, and keeps the rest', async () => {
    const { job } = await h.submit({ type: 'noop', payload: {} });
    const past = new Date(Date.now() - 60_000);
    const future = new Date(Date.now() + 3_600_000);
    const expired = [await file('upload', past, job.id), await file('artifact', past, job.id)];
    const kept = [await file('upload', future, job.id), await file('artifact', future, job.id)];
    for (const f of [...expired, ...kept]) expect(existsSync(f.path)).toBe(true);

    // Expired files are invisible at once, before any sweep.
    const listed = await (await h.request('GET', `/v1/jobs/${job.id}/artifacts`)).json();
    expect((listed as { data: { id: string }[] }).data.map((a) => a.id)).toEqual([kept[1]!.id]);
    expect((await h.request('GET', `/v1/artifacts/${expired[1]!.id}`)).status).toBe(404);

    // The scheduled sweep (its first round runs at start-up) removes them; a second round finds nothing.
    const runtime = await h.startWorker({ fileSweepIntervalMs: 60_000 });
    await waitFor('expired files to be removed', () => expired.every((f) => !existsSync(f.path)));
    expect(await runtime.sweeper!.sweepOnce()).toBe(0);
    for (const f of kept) expect(existsSync(f.path)).toBe(true);
    expect((await h.request('GET', `/v1/artifacts/${kept[1]!.id}`)).status).toBe(200);
  });
});
