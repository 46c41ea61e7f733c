import { createHash } from 'node:crypto';
import { JOB_STATUSES, jobTypes } from '@conveyor/shared';
import { type Context, Hono } from 'hono';
import { dashboardPage } from '../dashboard/page';
import { DASHBOARD_JS } from '../dashboard/script';
import { DASHBOARD_CSS, DASHBOARD_ICON } from '../dashboard/style';
import type { AppEnv } from '../deps';
import { matchesIfNoneMatch } from '../http/etag';

/**
 * The dashboard's CSP, replacing the API's `default-src 'none'` (middleware/security-headers.ts keeps a
 * header a route set). Unlike /docs and the queue board it needs no 'unsafe-inline' at all: its one script
 * and one stylesheet are files from this origin and the markup carries no `style` attribute. `connect-src
 * 'self'` is what lets the script call /v1; nothing is loaded from or sent anywhere else.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: string;
  type: string;
  etag: string;
}

const asset = (body: string, type: string): Asset => ({
  body,
  type,
  etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
});

/**
 * GET /dashboard: the operators' job dashboard (search jobs in Postgres, one job's timeline, error, progress,
 * result and artifacts, cancel and retry). The page and its assets are static and public — they hold no
 * data; the script signs in with a tenant API key and reads everything through /v1, so what it can see and
 * do is exactly what that key may. The assets carry their content hash in the URL and revalidate by ETag.
 */
export function dashboardRoutes() {
  const app = new Hono<AppEnv>();
  const js = asset(DASHBOARD_JS, 'text/javascript; charset=utf-8');
  const css = asset(DASHBOARD_CSS, 'text/css; charset=utf-8');
  const icon = asset(DASHBOARD_ICON, 'image/svg+xml');
  const version = createHash('sha1')
    .update(js.etag)
    .update(css.etag)
    .update(icon.etag)
    .digest('base64url')
    .slice(0, 12);
  const html = dashboardPage({ version, jobTypes, statuses: JOB_STATUSES });
  const serve = (c: Context<AppEnv>, a: Asset) => {
    const headers = {
      'Content-Type': a.type,
      'Content-Security-Policy': DASHBOARD_CSP,
      'Cache-Control': 'public, max-age=86400',
      ETag: a.etag,
    };
    if (matchesIfNoneMatch(c.req.header('if-none-match'), a.etag)) return c.body(null, 304, headers);
    return c.body(a.body, 200, headers);
  };

  app.get('/', (c) =>
    c.html(html, 200, { 'Content-Security-Policy': DASHBOARD_CSP, 'Cache-Control': 'no-cache' }),
  );
  app.get('/assets/app.js', (c) => serve(c, js));
  app.get('/assets/app.css', (c) => serve(c, css));
  app.get('/assets/icon.svg', (c) => serve(c, icon));
  return app;
}
