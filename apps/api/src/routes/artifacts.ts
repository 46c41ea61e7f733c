import { Readable } from 'node:stream';
import { findArtifact, findJob, listArtifacts } from '@conveyor/db';
import { AppError, isUuid, notFound } from '@conveyor/shared';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { matchesIfNoneMatch } from '../http/etag';
import { parseRange } from '../http/range';
import type { createAuthenticator } from '../middleware/auth';
import { findOnReplicaOrPrimary } from '../read-db';

const idParam = (c: Context<AppEnv>, what: string) => {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) throw notFound(what);
  return id.toLowerCase();
};

/**
 * `attachment` with an ASCII fallback and the exact name in RFC 8187 form. encodeURIComponent leaves
 * ' ( ) * as they are, but they are not attr-chars (and ' delimits the charset), so they are escaped too.
 */
const contentDisposition = (name: string) => {
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"; filename*=UTF-8''${encoded}`;
};

/** Job outputs: listed per job, then streamed with ETag, Range and a safe Content-Disposition. */
export function artifactRoutes(deps: AppDeps, requireScope: ReturnType<typeof createAuthenticator>) {
  const app = new Hono<AppEnv>();
  const read = requireScope('jobs:read');

  app.get('/jobs/:id/artifacts', read, async (c) => {
    const { tenantId } = c.get('auth');
    const jobId = idParam(c, 'job');
    const { found, db } = await findOnReplicaOrPrimary(deps, (db) => findJob(db, tenantId, jobId));
    if (!found) throw notFound('job');
    const rows = await listArtifacts(db, tenantId, jobId);
    return c.json(
      {
        data: rows.map((r) => ({
          id: r.id,
          name: r.name,
          contentType: r.contentType,
          bytes: r.bytes,
          metadata: r.metadata,
          createdAt: r.createdAt.toISOString(),
          url: `/v1/artifacts/${r.id}`,
        })),
      },
      200,
      { 'Cache-Control': 'private, no-cache' },
    );
  });

  app.get('/artifacts/:id', read, async (c) => {
    const tenantId = c.get('auth').tenantId;
    const artifactId = idParam(c, 'artifact');
    const { found: row } = await findOnReplicaOrPrimary(deps, (db) => findArtifact(db, tenantId, artifactId));
    if (!row || !(await deps.store.stat(row.storageKey))) throw notFound('artifact');
    const etag = `"${row.sha256}"`;
    const headers: Record<string, string> = {
      'Content-Type': row.contentType,
      ETag: etag,
      'Accept-Ranges': 'bytes',
      // An artifact never changes under its id (a retry makes a new one), so it may be cached for good.
      'Cache-Control': 'private, max-age=31536000, immutable',
      'Content-Disposition': contentDisposition(row.name),
      'X-Content-Type-Options': 'nosniff',
    };
    if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    const ifRange = c.req.header('if-range');
    const range = ifRange && ifRange !== etag ? null : parseRange(c.req.header('range'), row.bytes);
    if (range === 'unsatisfiable') {
      // Not the artifact: none of its representation or year-long caching headers, only its size.
      throw new AppError(
        'range_not_satisfiable',
        416,
        `The range is outside the artifact's ${row.bytes} bytes.`,
        {
          headers: {
            'Accept-Ranges': 'bytes',
            'Cache-Control': 'no-store',
            'Content-Range': `bytes */${row.bytes}`,
          },
        },
      );
    }
    const status = range ? 206 : 200;
    const sent = {
      ...headers,
      ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${row.bytes}` } : {}),
      'Content-Length': String(range ? range.end - range.start + 1 : row.bytes),
    };
    // HEAD is answered by this GET handler with the body dropped: a file opened for it would never be
    // read to its end, so its descriptor would stay open. Only GET opens the blob.
    if (c.req.method === 'HEAD') return c.body(null, status, sent);
    const body = Readable.toWeb(deps.store.read(row.storageKey, range ?? undefined));
    return c.body(body as unknown as ReadableStream, status, sent);
  });

  return app;
}
