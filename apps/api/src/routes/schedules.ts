import {
  buildJobRow,
  createSchedule,
  deleteSchedule,
  findSchedule,
  listSchedules,
  replaceSchedule,
  type ScheduleFields,
  type ScheduleRow,
} from '@conveyor/db';
import { createScheduleMirror } from '@conveyor/queue';
import {
  AppError,
  fieldErrors,
  invalidParameter,
  isUuid,
  MAX_SCHEDULES_PER_TENANT,
  notFound,
  type ScheduleRequest,
  scheduleRequest,
  uuidv7,
  validationFailed,
} from '@conveyor/shared';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../deps';
import { decodeCursor, nextPageCursor } from '../http/cursor';
import { readRawJson } from '../http/json-body';
import type { createAuthenticator } from '../middleware/auth';
import { toScheduleView } from '../views/schedule';

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().optional(),
  })
  .strict();

/** Another tenant's id, a random id and a malformed id all answer the same 404. */
function scheduleIdParam(c: Context<AppEnv>): string {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) throw notFound('schedule');
  return id.toLowerCase();
}

/**
 * Reads and checks a schedule body: the cron and zone (in the zod schema), and the template exactly as
 * POST /v1/jobs would check it, with paths under `template.`. A fixed `runAt` makes no sense for a job
 * submitted again at every firing (`delay` does: it counts from the firing).
 */
async function readScheduleBody(c: Context<AppEnv>): Promise<ScheduleFields> {
  const parsed = scheduleRequest.safeParse(await readRawJson(c));
  if (!parsed.success) throw validationFailed(fieldErrors(parsed.error.issues));
  const body: ScheduleRequest = parsed.data;
  if (body.template.options?.runAt !== undefined) {
    throw validationFailed([
      {
        path: 'template.options.runAt',
        message: 'not allowed in a schedule template; use delay (ms after each firing)',
      },
    ]);
  }
  try {
    buildJobRow(body.template, { tenantId: c.get('auth').tenantId, requestId: null });
  } catch (error) {
    if (!(error instanceof AppError) || !error.errors) throw error;
    throw validationFailed(
      error.errors.map((e) => ({ ...e, path: `template.${e.path}` })),
      'The template is not a valid job for its type.',
    );
  }
  return { ...body, template: body.template as Record<string, unknown> };
}

/**
 * `/v1/schedules`: cron schedules that submit their job template at each firing. Postgres holds them; each
 * write also updates the BullMQ job scheduler that mirrors the schedule in Redis, best effort: with Redis
 * down the write still succeeds and the worker's reconciler brings the mirror up to date.
 * Reads take `schedules:write` or `jobs:read`; writes take `schedules:write`.
 */
export function scheduleRoutes(deps: AppDeps, requireScope: ReturnType<typeof createAuthenticator>) {
  const app = new Hono<AppEnv>();
  const read = requireScope(['schedules:write', 'jobs:read']);
  const write = requireScope('schedules:write');
  const mirror = createScheduleMirror(deps.producer);
  const maxPerTenant = deps.maxSchedulesPerTenant ?? MAX_SCHEDULES_PER_TENANT;

  async function syncMirror(c: Context<AppEnv>, row: ScheduleRow | { id: string; paused: true }) {
    try {
      if (row.paused) await mirror.remove(row.id);
      else await mirror.upsert(row as ScheduleRow);
    } catch (error) {
      c.get('log').warn(
        { err: error, scheduleId: row.id },
        'schedule mirror not updated; the schedule is saved and the reconciler will update it',
      );
    }
  }

  app.post('/', write, async (c) => {
    const fields = await readScheduleBody(c);
    const created = await createSchedule(
      deps.db,
      { ...fields, id: uuidv7(), tenantId: c.get('auth').tenantId },
      maxPerTenant,
    );
    if ('capReached' in created) {
      throw new AppError(
        'validation_failed',
        422,
        `This tenant already has ${created.capReached} schedules, the most it may have; delete one first.`,
      );
    }
    await syncMirror(c, created.row);
    return c.json(toScheduleView(created.row), 201, { Location: `/v1/schedules/${created.row.id}` });
  });

  app.get('/', read, async (c) => {
    const parsed = listQuery.safeParse(c.req.query());
    if (!parsed.success)
      throw invalidParameter('A query parameter is not valid.', fieldErrors(parsed.error.issues));
    const q = parsed.data;
    const { rows, hasMore } = await listSchedules(deps.db, {
      tenantId: c.get('auth').tenantId,
      beforeId: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: q.limit,
    });
    const nextCursor = nextPageCursor(c, rows, hasMore);
    const now = new Date();
    return c.json({ data: rows.map((r) => toScheduleView(r, now)), nextCursor }, 200, {
      'Cache-Control': 'private, no-cache',
    });
  });

  app.get('/:id', read, async (c) => {
    const row = await findSchedule(deps.db, c.get('auth').tenantId, scheduleIdParam(c));
    if (!row) throw notFound('schedule');
    return c.json(toScheduleView(row), 200, { 'Cache-Control': 'private, no-cache' });
  });

  app.put('/:id', write, async (c) => {
    const id = scheduleIdParam(c);
    const tenantId = c.get('auth').tenantId;
    // An unknown id (another tenant's included) is a 404 whatever the body: the id decides first.
    if (!(await findSchedule(deps.db, tenantId, id))) throw notFound('schedule');
    const fields = await readScheduleBody(c);
    const row = await replaceSchedule(deps.db, tenantId, id, fields);
    if (!row) throw notFound('schedule');
    await syncMirror(c, row);
    return c.json(toScheduleView(row), 200);
  });

  app.delete('/:id', write, async (c) => {
    const id = scheduleIdParam(c);
    if (!(await deleteSchedule(deps.db, c.get('auth').tenantId, id))) throw notFound('schedule');
    await syncMirror(c, { id, paused: true });
    return c.body(null, 204);
  });

  return app;
}
