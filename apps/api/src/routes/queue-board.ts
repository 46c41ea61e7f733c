import { createBullBoard } from '@bull-board/api';
import { HonoAdapter } from '@bull-board/hono';
import { boardQueues } from '@conveyor/queue';
import { queueNames } from '@conveyor/shared';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { type AuthHooks, requireAdmin } from '../middleware/auth';

/** Where the board is mounted; the UI's own links and API calls are relative to it. */
export const BOARD_PATH = '/admin/queues';

/**
 * The board page's CSP, replacing the API's `default-src 'none'` (middleware/security-headers.ts keeps a
 * header a route set). Scripts, styles, images and fetches from this origin only; styles also allow
 * 'unsafe-inline' for the page's inline `style` attributes and its loading animation (a stylesheet cannot
 * run script). `base-uri 'self'` because the page sets `<base href>`. The Google Fonts stylesheet the page
 * links is blocked on purpose: nothing leaves this origin, and the UI falls back to system fonts.
 */
export const BOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The Bull Board app: its static files, its JSON API under `api/` and its page, all under BOARD_PATH. */
function buildBoard(deps: AppDeps): Hono {
  const adapter = new HonoAdapter(serveStatic).setBasePath(BOARD_PATH);
  createBullBoard({
    queues: boardQueues(deps.producer, queueNames),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Conveyor' } },
  });
  const board = new Hono({ strict: false });
  board.route(BOARD_PATH, adapter.registerPlugin());
  // Errors go up to the API's onError (problem+json, logged once) instead of Hono's plain-text 500.
  board.onError((error) => {
    throw error;
  });
  return board;
}

/**
 * Bull Board at /admin/queues: BullMQ's view of the queues (waiting, active, delayed, failed jobs), read-only —
 * Postgres holds a job's truth, so changes go through the API. Behind the admin token, sent as a Bearer
 * token or, so that a browser can open the page, as the password of HTTP Basic auth (any user name; the 401
 * asks the browser for it). Absent (404) while ADMIN_TOKEN is unset, like the admin API. The board and its
 * Queue objects are built on the first authenticated request, so an API that never serves it pays nothing.
 * Mounted on the root app, whose `strict: false` makes `/admin/queues/` answer like `/admin/queues`.
 */
export function queueBoardRoutes(deps: AppDeps, authHooks: AuthHooks = {}) {
  const app = new Hono<AppEnv>();
  app.use('*', requireAdmin(deps.adminToken, authHooks, { basicRealm: 'Conveyor admin' }));
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('Content-Security-Policy', BOARD_CSP);
  });
  let board: Hono | undefined;
  app.all('*', (c) => {
    board ??= buildBoard(deps);
    return board.fetch(c.req.raw);
  });
  return app;
}
