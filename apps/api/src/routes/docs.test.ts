import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { appWithoutDependencies, cspOf, urlsIn } from '../page-test-support';

/** /docs touches no dependency, so dummies do (as in openapi/document.test.ts). */
const app = appWithoutDependencies();

describe('GET /docs', () => {
  it('is an HTML page whose every script is same-origin', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const urls = urlsIn(html);
    expect(urls.some((u) => u.startsWith('/docs/assets/scalar.js'))).toBe(true);
    for (const url of urls) expect(url, url).toMatch(/^\/(?!\/)/);
    expect(html).not.toMatch(/\bhttps?:\/\/|["'(]\/\//);
    // No inline script: each <script> loads a file, so script-src 'self' suffices.
    for (const tag of html.match(/<script\b[^>]*>[^<]*<\/script>/g) ?? [])
      expect(tag).toMatch(/^<script src="\//);
  });

  it('sends its own CSP allowing only this origin for scripts, fetches and styles', async () => {
    const csp = cspOf(await app.request('/docs'));
    expect(csp['default-src']).toBe("'none'");
    expect(csp['script-src']).toBe("'self'");
    expect(csp['connect-src']).toBe("'self'");
    expect(csp['style-src']).toMatch(/^'self'/);
    expect(csp['frame-ancestors']).toBe("'none'");
    for (const value of Object.values(csp)) expect(value).not.toMatch(/https?:|\*/);
  });

  it('also answers with a trailing slash', async () => {
    expect((await app.request('/docs/')).status).toBe(200);
  });
});

describe('GET /docs/assets/*', () => {
  it('serves the Scalar bundle as JavaScript, non-trivial in size, with the docs CSP', async () => {
    const res = await app.request('/docs/assets/scalar.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(cspOf(res)['script-src']).toBe("'self'");
    const body = await res.text();
    expect(body.length).toBeGreaterThan(1_000_000);
    expect(body).toContain('createApiReference');
  });

  it('serves the bundle compressed once, for a client that accepts it', async () => {
    const res = await app.request('/docs/assets/scalar.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const plain = await (await app.request('/docs/assets/scalar.js')).text();
    expect(gunzipSync(bytes).toString('utf8')).toBe(plain);
    expect(bytes.byteLength).toBeLessThan(plain.length / 2);
  });

  it('answers 304 to the current ETag', async () => {
    const etag = (await app.request('/docs/assets/scalar.js')).headers.get('etag')!;
    const res = await app.request('/docs/assets/scalar.js', { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(304);
    const gzipped = { 'accept-encoding': 'gzip' };
    const gzEtag = (await app.request('/docs/assets/scalar.js', { headers: gzipped })).headers.get('etag')!;
    expect(gzEtag).not.toBe(etag);
    const again = await app.request('/docs/assets/scalar.js', {
      headers: { ...gzipped, 'if-none-match': gzEtag },
    });
    expect(again.status).toBe(304);
  });

  it('serves the mount script pointing the reference at /openapi.json without default fonts', async () => {
    const res = await app.request('/docs/assets/init.js');
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const body = await res.text();
    expect(body).toContain("url: '/openapi.json'");
    expect(body).toContain('withDefaultFonts: false');
  });

  it('leaves the strict API CSP on other routes', async () => {
    const res = await app.request('/openapi.json');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});
