import { type Db, findUpload, upsertArtifact } from '@conveyor/db';
import { PermanentError } from '@conveyor/shared';
import { artifactKey, type BlobStore } from '@conveyor/storage';
import type { ArtifactInput, SavedArtifact, UploadContent } from './handlers/index';

const ARTIFACT_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** The file side of a handler's context: uploads in, artifacts out, always within the job's tenant. */
export function createJobFiles(
  deps: { db: Db; store: BlobStore; retentionMs: number },
  job: { tenantId: string; jobId: string },
) {
  return {
    async saveArtifact(input: ArtifactInput): Promise<SavedArtifact> {
      if (!ARTIFACT_NAME.test(input.name))
        throw new Error(`invalid artifact name ${JSON.stringify(input.name)}`);
      const storageKey = artifactKey(job.tenantId, job.jobId);
      const blob = await deps.store.put(storageKey, input.data);
      const { row, replacedKey } = await upsertArtifact(deps.db, {
        tenantId: job.tenantId,
        jobId: job.jobId,
        name: input.name,
        contentType: input.contentType,
        bytes: blob.bytes,
        sha256: blob.sha256,
        storageKey,
        metadata: input.metadata ?? {},
        expiresAt: new Date(Date.now() + deps.retentionMs),
      });
      if (replacedKey && replacedKey !== storageKey) await deps.store.delete(replacedKey);
      return { artifactId: row.id, name: row.name, contentType: row.contentType, bytes: row.bytes };
    },

    async readUpload(uploadId: string): Promise<UploadContent> {
      const upload = /^[0-9a-f-]{36}$/i.test(uploadId)
        ? await findUpload(deps.db, job.tenantId, uploadId)
        : undefined;
      if (!upload)
        throw new PermanentError('upload_not_found', `upload ${uploadId} does not exist or has expired`);
      return {
        contentType: upload.contentType,
        bytes: upload.bytes,
        data: await deps.store.readAll(upload.storageKey),
      };
    },
  };
}
