import { Readable } from 'node:stream';
import { findArtifact, findJob, listArtifacts } from '@conveyor/db';
import { isUuid, notFound } from '@conveyor/shared';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { matchesIfNoneMatch } from '../http/etag';
import { parseRange } from '../http/range';
import type { createAuthenticator } from '../middleware/auth';

const idParam = (c: Context<AppEnv>, what: string) => {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) throw notFound(what);
  return id.toLowerCase();
};

/** `attachment` with an ASCII fallback and the exact name in RFC 8187 form. */
const contentDisposition = (name: string) =>
  `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;

/** Job outputs: listed per job, then streamed with ETag, Range and a safe Content-Disposition. */
export function artifactRoutes(deps: AppDeps, requireScope: ReturnType<typeof createAuthenticator>) {
  const app = new Hono<AppEnv>();
  const read = requireScope('jobs:read');

  app.get('/jobs/:id/artifacts', read, async (c) => {
    const { tenantId } = c.get('auth');
    const jobId = idParam(c, 'job');
    if (!(await findJob(deps.db, tenantId, jobId))) throw notFound('job');
    const rows = await listArtifacts(deps.db, tenantId, jobId);
    return c.json({
      data: rows.map((r) => ({
        id: r.id,
        name: r.name,
        contentType: r.contentType,
        bytes: r.bytes,
        metadata: r.metadata,
        createdAt: r.createdAt.toISOString(),
        url: `/v1/artifacts/${r.id}`,
      })),
    });
  });

  app.get('/artifacts/:id', read, async (c) => {
    const row = await findArtifact(deps.db, c.get('auth').tenantId, idParam(c, 'artifact'));
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
      return c.body(null, 416, { ...headers, 'Content-Range': `bytes */${row.bytes}` });
    }
    const stream = (r?: { start: number; end: number }) =>
      Readable.toWeb(deps.store.read(row.storageKey, r)) as unknown as ReadableStream;
    if (range) {
      return c.body(stream(range), 206, {
        ...headers,
        'Content-Range': `bytes ${range.start}-${range.end}/${row.bytes}`,
        'Content-Length': String(range.end - range.start + 1),
      });
    }
    return c.body(stream(), 200, { ...headers, 'Content-Length': String(row.bytes) });
  });

  return app;
}
