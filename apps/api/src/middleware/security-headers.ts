import type { MiddlewareHandler } from 'hono';

export interface SecurityHeadersOptions {
  /**
   * Strict-Transport-Security max-age, in seconds; default 0 = no header. Only for a deployment reached
   * over HTTPS: browsers ignore the header over plain HTTP, and a long one on a name that later serves
   * plain HTTP locks users out, so it is opt-in.
   */
  hstsMaxAgeS?: number;
}

/**
 * Headers for an API that answers JSON and file downloads, never pages: no MIME sniffing, no referrer, no
 * framing (X-Frame-Options for old browsers, CSP frame-ancestors for the rest), no loading by other sites'
 * pages, and a CSP that runs nothing, so an artifact opened in a browser (an SVG or HTML file) cannot run
 * script in the API's origin. Set after the handler, so error answers get them too; a header a route set
 * itself is kept — a `/docs` page, if one is added, must send its own Content-Security-Policy.
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): MiddlewareHandler {
  const headers: [string, string][] = [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Frame-Options', 'DENY'],
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
  ];
  const hsts = options.hstsMaxAgeS ?? 0;
  if (hsts > 0) headers.push(['Strict-Transport-Security', `max-age=${hsts}`]);
  return async (c, next) => {
    await next();
    for (const [name, value] of headers) if (!c.res.headers.has(name)) c.res.headers.set(name, value);
  };
}
