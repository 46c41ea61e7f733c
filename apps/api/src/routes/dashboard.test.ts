import vm from 'node:vm';
import { JOB_STATUSES, jobTypes } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { appWithoutDependencies, cspOf, urlsIn } from '../page-test-support';

/** The dashboard touches no dependency on the server side (its data comes through /v1), so dummies do. */
const app = appWithoutDependencies();

describe('GET /dashboard', () => {
  it('is a static HTML page whose script and stylesheet are same-origin files', async () => {
    const res = await app.request('/dashboard');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const urls = urlsIn(html);
    expect(urls.some((u) => u.startsWith('/dashboard/assets/app.js?v='))).toBe(true);
    expect(urls.some((u) => u.startsWith('/dashboard/assets/app.css?v='))).toBe(true);
    for (const url of urls) expect(url, url).toMatch(/^\/(?!\/)/);
    expect(html).not.toMatch(/\bhttps?:\/\/|["'(]\/\//);
    // No inline script, no inline style: the CSP allows neither.
    for (const tag of html.match(/<script\b[^>]*>[^<]*<\/script>/g) ?? [])
      expect(tag).toMatch(/^<script src="\//);
    expect(html).not.toMatch(/\sstyle=|<style\b|\son[a-z]+=/i);
  });

  it('offers every job type and status as a filter, and every control has a label', async () => {
    const html = await (await app.request('/dashboard')).text();
    for (const v of [...jobTypes, ...JOB_STATUSES]) expect(html).toContain(`<option value="${v}">`);
    const ids = [...html.matchAll(/<(?:input|select)\b[^>]*\bid="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThan(5);
    for (const id of ids) expect(html, id).toContain(`<label for="${id}">`);
  });

  it('sends a CSP with no unsafe-inline and nothing from another origin', async () => {
    const csp = cspOf(await app.request('/dashboard'));
    expect(csp['default-src']).toBe("'none'");
    expect(csp['script-src']).toBe("'self'");
    expect(csp['style-src']).toBe("'self'");
    expect(csp['connect-src']).toBe("'self'");
    expect(csp['frame-ancestors']).toBe("'none'");
    for (const value of Object.values(csp)) expect(value).not.toMatch(/https?:|\*|unsafe/);
  });

  it('also answers with a trailing slash', async () => {
    expect((await app.request('/dashboard/')).status).toBe(200);
  });
});

describe('GET /dashboard/assets/*', () => {
  it('serves the script as JavaScript that parses, with the CSP and a validator', async () => {
    const res = await app.request('/dashboard/assets/app.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const source = await res.text();
    expect(() => new vm.Script(source)).not.toThrow();
    // The page is data-free; the script renders API data as text, never as markup.
    expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    const etag = res.headers.get('etag')!;
    const again = await app.request('/dashboard/assets/app.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves the stylesheet as CSS', async () => {
    const res = await app.request('/dashboard/assets/app.css');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await res.text()).toContain('.badge-failed');
  });

  it('serves an icon, so the browser asks for no /favicon.ico', async () => {
    const html = await (await app.request('/dashboard')).text();
    const href = /<link rel="icon"[^>]*href="([^"]+)"/.exec(html)?.[1];
    expect(href).toMatch(/^\/dashboard\/assets\/icon\.svg\?v=/);
    const res = await app.request(href!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
  });

  it('names the assets by content hash in the page', async () => {
    const html = await (await app.request('/dashboard')).text();
    const versions = new Set(
      [...html.matchAll(/\/dashboard\/assets\/app\.\w+\?v=([\w-]+)/g)].map((m) => m[1]),
    );
    expect(versions.size).toBe(1);
    expect([...versions][0]).toMatch(/^[\w-]{12}$/);
  });
});
