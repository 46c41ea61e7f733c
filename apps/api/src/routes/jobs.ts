import { findJob, listJobEvents, listJobs, requestCancel, requeueJob } from '@conveyor/db';
import {
  AppError,
  createJobRequest,
  createJobsBatchRequest,
  type FieldError,
  fieldErrors,
  invalidParameter,
  invalidState,
  isTerminal,
  isUuid,
  JOB_STATUSES,
  type JobStatus,
  type JobView,
  notFound,
  validationFailed,
} from '@conveyor/shared';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../deps';
import { decodeCursor, nextPageCursor } from '../http/cursor';
import { etagOf, matchesIfNoneMatch } from '../http/etag';
import { readRawJson } from '../http/json-body';
import { assertActiveJobCapacity } from '../jobs/active-cap';
import { readJob } from '../jobs/read-job';
import { createSettledViews } from '../jobs/settled-views';
import {
  announceChange,
  buildJobRow,
  createSubmitter,
  enqueueRef,
  parseIdempotencyKey,
  submitBatch,
  submitJob,
} from '../jobs/submit';
import { enqueueTerminalWebhook } from '../jobs/webhook';
import { streamJobEvents, wantsEventStream } from '../live/job-events-stream';
import { pollingWatcher } from '../live/job-watch';
import type { createAuthenticator } from '../middleware/auth';
import { findOnReplicaOrPrimary, readDbOf } from '../read-db';
import { acceptedView, parseFields, pickFields, toJobView } from '../views/job';

/** `wait=<seconds, 0–30>` on a single read. */
function parseWait(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^\d{1,2}$/.test(raw) || Number(raw) > 30) {
    throw invalidParameter('wait must be a whole number of seconds from 0 to 30.', [
      { path: 'wait', message: 'expected 0–30' },
    ]);
  }
  return Number(raw);
}

const commaList = (max: number) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()))
    .refine(
      (list) => list.length <= max && list.every(Boolean),
      `a comma-separated list of at most ${max} values`,
    );

/** A free-text filter. Postgres text cannot hold U+0000: such a value is a bad parameter, not a 500. */
const filterText = z
  .string()
  .max(100)
  .refine((s) => !s.includes('\u0000'), 'must not contain U+0000');

const listQuery = z
  .object({
    status: commaList(6)
      .refine(
        (l) => l.every((s) => (JOB_STATUSES as readonly string[]).includes(s)),
        `each one of ${JOB_STATUSES.join(', ')}`,
      )
      .optional(),
    type: filterText.optional(),
    queue: filterText.optional(),
    createdAfter: z.iso.datetime({ offset: true }).optional(),
    createdBefore: z.iso.datetime({ offset: true }).optional(),
    ids: commaList(100)
      .refine((l) => l.every(isUuid), 'each a job id (UUID)')
      .optional(),
    fields: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().optional(),
  })
  .strict();

/** Per-user answers that may change at any moment: a cache keeps them only to revalidate them. */
const LIVE_CACHE_CONTROL = 'private, no-cache';

/** Another tenant's id, a random id and a malformed id all answer the same 404. */
function jobIdParam(c: Context<AppEnv>): string {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) throw notFound('job');
  return id.toLowerCase();
}

export function jobRoutes(deps: AppDeps, requireScope: ReturnType<typeof createAuthenticator>) {
  const app = new Hono<AppEnv>();
  const read = requireScope('jobs:read');
  const write = requireScope('jobs:write');
  const readDeps = { ...deps, settled: createSettledViews() };
  const submitter = createSubmitter(deps);

  // A finished job changes only through POST …/retry (failed or canceled ones), whose answer carries the new
  // state and names the job in Content-Location (caches may drop their copy on it). A browser that reads the
  // job again within the max-age may still be shown the finished state: the price of not asking again for
  // jobs that almost never change. A job that can still change is revalidated (ETag) on every read.
  const terminalMaxAge = deps.terminalJobMaxAgeS ?? 60;
  const jobCacheControl = (status: JobStatus) =>
    isTerminal(status) && terminalMaxAge > 0 ? `private, max-age=${terminalMaxAge}` : LIVE_CACHE_CONTROL;

  const accepted = (c: Context<AppEnv>, view: Partial<JobView>, extra: Record<string, string> = {}) =>
    c.json(view, 202, { Location: `/v1/jobs/${view.id}`, ...extra });

  app.post('/', write, async (c) => {
    const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'));
    const raw = await readRawJson(c);
    const parsed = createJobRequest.safeParse(raw);
    if (!parsed.success) throw validationFailed(fieldErrors(parsed.error.issues));
    const values = buildJobRow(parsed.data, {
      tenantId: c.get('auth').tenantId,
      requestId: c.get('requestId'),
      idempotencyKey,
      rawBody: raw,
    });
    await assertActiveJobCapacity(deps.db, c, 1);
    const { row, replayed } = await submitJob(submitter, values);
    return replayed
      ? accepted(c, acceptedView(row), { 'Idempotent-Replayed': 'true' })
      : accepted(c, toJobView(row));
  });

  app.post('/batch', write, async (c) => {
    if (c.req.header('idempotency-key') !== undefined) {
      throw invalidParameter(
        'Idempotency-Key is not supported on batch submits; a batch is atomic, so retry it whole.',
        [{ path: 'Idempotency-Key', message: 'not supported here' }],
      );
    }
    const raw = await readRawJson(c);
    const parsed = createJobsBatchRequest.safeParse(raw);
    if (!parsed.success) throw validationFailed(fieldErrors(parsed.error.issues));
    const context = { tenantId: c.get('auth').tenantId, requestId: c.get('requestId'), rawBody: raw };
    const problems: FieldError[] = [];
    const values = parsed.data.jobs.flatMap((job, i) => {
      try {
        return [buildJobRow(job, context)];
      } catch (error) {
        if (!(error instanceof AppError) || !error.errors) throw error;
        problems.push(...error.errors.map((e) => ({ ...e, path: `jobs.${i}.${e.path}` })));
        return [];
      }
    });
    if (problems.length)
      throw validationFailed(
        problems.slice(0, 100),
        'Some jobs in the batch are not valid; none was accepted.',
      );
    await assertActiveJobCapacity(deps.db, c, values.length);
    const rows = await submitBatch({ ...deps, log: c.get('log') }, values);
    return c.json({ data: rows.map(toJobView) }, 202);
  });

  app.get('/', read, async (c) => {
    const parsed = listQuery.safeParse(c.req.query());
    if (!parsed.success)
      throw invalidParameter('A query parameter is not valid.', fieldErrors(parsed.error.issues));
    const q = parsed.data;
    const fields = parseFields(q.fields);
    const { rows, hasMore } = await listJobs(readDbOf(deps), {
      tenantId: c.get('auth').tenantId,
      statuses: q.status as JobStatus[] | undefined,
      type: q.type,
      queue: q.queue,
      createdAfter: q.createdAfter ? new Date(q.createdAfter) : undefined,
      createdBefore: q.createdBefore ? new Date(q.createdBefore) : undefined,
      ids: q.ids?.map((id) => id.toLowerCase()),
      beforeId: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: q.limit,
    });
    const nextCursor = nextPageCursor(c, rows, hasMore);
    return c.json({ data: rows.map((r) => pickFields(toJobView(r), fields)), nextCursor }, 200, {
      'Cache-Control': LIVE_CACHE_CONTROL,
    });
  });

  app.get('/:id', read, async (c) => {
    const fields = parseFields(c.req.query('fields'));
    const wait = parseWait(c.req.query('wait'));
    const tenantId = c.get('auth').tenantId;
    const id = jobIdParam(c);
    // ?wait=N holds the answer until the job is terminal or N seconds pass. The watcher exists before the
    // first read, so a change between that read and the wait still wakes it.
    const watcher = wait > 0 ? (deps.watch?.watchJob(id) ?? pollingWatcher()) : null;
    let read = await readJob(readDeps, tenantId, id).catch((error: unknown) => {
      watcher?.close();
      throw error;
    });
    if (watcher) {
      const deadline = Date.now() + wait * 1_000;
      try {
        while (read && !isTerminal(read.view.status) && Date.now() < deadline) {
          if (await watcher.next(deadline - Date.now(), c.req.raw.signal))
            read = await readJob(readDeps, tenantId, id, { fresh: true });
          if (c.req.raw.signal.aborted) break;
        }
      } finally {
        watcher.close();
      }
    }
    if (!read) throw notFound('job');
    // The whole view's body and tag come with the read (cached for succeeded jobs); `fields` makes its own.
    const body = fields ? JSON.stringify(pickFields(read.view, fields)) : read.json;
    const etag = fields ? etagOf(body) : read.etag;
    const headers = { ETag: etag, 'Cache-Control': jobCacheControl(read.view.status) };
    if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    return c.body(body, 200, { ...headers, 'Content-Type': 'application/json' });
  });

  app.get('/:id/events', read, async (c) => {
    const tenantId = c.get('auth').tenantId;
    const id = jobIdParam(c);
    // A stream follows job-change messages, sent once a change committed on the primary: it reads there.
    if (wantsEventStream(c)) {
      if (!(await findJob(deps.db, tenantId, id))) throw notFound('job');
      return streamJobEvents(c, deps, tenantId, id);
    }
    const { found, db } = await findOnReplicaOrPrimary(deps, (db) => findJob(db, tenantId, id));
    if (!found) throw notFound('job');
    const events = await listJobEvents(db, tenantId, id);
    return c.json(
      { data: events.map((e) => ({ at: e.at.toISOString(), type: e.type, data: e.data })) },
      200,
      { 'Cache-Control': LIVE_CACHE_CONTROL },
    );
  });

  app.post('/:id/cancel', write, async (c) => {
    const id = jobIdParam(c);
    // Guarded: no read is served the cached pre-cancel view once the cancel has committed.
    const outcome = await deps.producer.jobCache.guard(id, () =>
      requestCancel(deps.db, c.get('auth').tenantId, id),
    );
    if (outcome.outcome === 'not_found') throw notFound('job');
    if (outcome.outcome === 'terminal') throw invalidState(`The job is already ${outcome.row.status}.`);
    const { row } = outcome;
    const log = c.get('log');
    // Best effort on Redis: Postgres already holds the decision, and workers check it before and while running.
    if (outcome.outcome === 'canceled') {
      await deps.producer
        .remove(row.queue, row.id)
        .catch((error: unknown) => log.warn({ err: error }, 'could not remove canceled job from queue'));
      await enqueueTerminalWebhook({ ...deps, log }, row);
    } else {
      await deps.producer
        .publishCancel(row.id)
        .catch((error: unknown) => log.warn({ err: error }, 'could not publish cancel'));
    }
    announceChange(deps.producer, row);
    return c.json(toJobView(row), 202);
  });

  app.post('/:id/retry', write, async (c) => {
    const id = jobIdParam(c);
    const outcome = await deps.producer.jobCache.guard(id, () =>
      requeueJob(deps.db, c.get('auth').tenantId, id),
    );
    if (outcome.outcome === 'not_found') throw notFound('job');
    if (outcome.outcome === 'invalid_state') {
      throw invalidState(`Only failed or canceled jobs can be retried; this one is ${outcome.row.status}.`);
    }
    await deps.producer
      .replace(enqueueRef(outcome.row))
      .catch((error: unknown) =>
        c.get('log').warn({ err: error }, 'enqueue of retried job failed; the reconciler will enqueue it'),
      );
    announceChange(deps.producer, outcome.row);
    return c.json(toJobView(outcome.row), 202, { 'Content-Location': `/v1/jobs/${outcome.row.id}` });
  });

  return app;
}
