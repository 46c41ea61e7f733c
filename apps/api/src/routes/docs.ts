import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { type Context, Hono } from 'hono';
import type { AppEnv } from '../deps';
import { matchesIfNoneMatch } from '../http/etag';
import { type ContentCoding, negotiateEncoding } from '../middleware/compression';

/**
 * The docs page's own CSP, replacing the API's `default-src 'none'` (middleware/security-headers.ts keeps a
 * header a route set). Scripts, fetches and images only from this origin: the page loads the bundle and
 * /openapi.json from here and nothing from anywhere else. Styles also allow 'unsafe-inline' because the
 * Scalar bundle injects its CSS as <style> elements at run time (no separate stylesheet ships with it);
 * a stylesheet cannot run script, and script stays 'self' only.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const BUNDLE = '@scalar/api-reference/browser/standalone.js';

interface Asset {
  body: string;
  etag: string;
  /** A short content hash, put in the asset URLs so a new bundle is fetched at once. */
  version: string;
}

let bundle: Asset | undefined;
const encoded = new Map<ContentCoding, Promise<Buffer>>();

/**
 * The bundle compressed once per coding, on first request, off the event loop: compressing 3.5 MB on every
 * answer would cost ~0.5 s of CPU per unauthenticated request.
 */
function encodedBundle(asset: Asset, coding: ContentCoding): Promise<Buffer> {
  let done = encoded.get(coding);
  if (!done) {
    done =
      coding === 'br'
        ? promisify(brotliCompress)(asset.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } })
        : promisify(gzip)(asset.body, { level: 9 });
    encoded.set(coding, done);
  }
  return done;
}

/**
 * The Scalar standalone bundle (~3.5 MB), read once per process from node_modules. Resolved at run time, not
 * imported: the app is bundled by esbuild with third-party packages external, and this is a browser file.
 */
function scalarBundle(): Asset {
  if (bundle) return bundle;
  const require = createRequire(import.meta.url);
  const body = readFileSync(require.resolve(BUNDLE), 'utf8');
  const hash = createHash('sha1').update(body).digest('base64url');
  bundle = { body, etag: `"${hash}"`, version: hash.slice(0, 12) };
  return bundle;
}

/** Mounts the reference on the page's #app; a file, not inline, so script-src stays 'self' only. */
const INIT_JS = `Scalar.createApiReference('#app', {
  url: '/openapi.json',
  withDefaultFonts: false,
});
`;

const page = (version: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Conveyor API reference</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="/docs/assets/scalar.js?v=${version}"></script>
    <script src="/docs/assets/init.js?v=${version}"></script>
  </body>
</html>
`;

/**
 * GET /docs: the API reference (Scalar) for /openapi.json, served entirely from this process, so it renders
 * with no outside network. The assets are cacheable for a day and revalidate by ETag; the page names the
 * bundle's content hash in the URL so an upgrade is fetched at once.
 */
export function docsRoutes() {
  const app = new Hono<AppEnv>();
  const asset = scalarBundle();
  const html = page(asset.version);
  const init = { body: INIT_JS, etag: `"${createHash('sha1').update(INIT_JS).digest('base64url')}"` };
  const js = async (c: Context<AppEnv>, a: { body: string; etag: string }, precompressed = false) => {
    const coding = precompressed ? negotiateEncoding(c.req.header('accept-encoding')) : null;
    // Each coding is its own representation, so its own validator (RFC 9110 §8.8.3).
    const etag = coding ? `${a.etag.slice(0, -1)}-${coding}"` : a.etag;
    const headers: Record<string, string> = {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Content-Security-Policy': DOCS_CSP,
      'Cache-Control': 'public, max-age=86400',
      ETag: etag,
      ...(precompressed ? { Vary: 'Accept-Encoding' } : {}),
    };
    if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    if (!coding) return c.body(a.body, 200, headers);
    const bytes = await encodedBundle(asset, coding);
    return c.body(new Uint8Array(bytes), 200, { ...headers, 'Content-Encoding': coding });
  };

  app.get('/', (c) =>
    c.html(html, 200, { 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': 'no-cache' }),
  );
  app.get('/assets/scalar.js', (c) => js(c, asset, true));
  app.get('/assets/init.js', (c) => js(c, init));
  return app;
}
