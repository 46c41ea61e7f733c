/**
 * How long an idle keep-alive connection is kept open, in ms. Longer than the idle timeout of common load
 * balancers (AWS ALB 60 s by default, nginx's upstream keepalive_timeout 60 s), so the balancer always
 * closes an idle connection first: if the server closed it first, a request the balancer sends on it at
 * that moment would fail with a 502. A balancer with a longer idle timeout (Google Cloud's is 600 s) needs
 * this raised above it.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Must exceed the keep-alive timeout, or Node can drop a connection while a request's headers arrive on it. */
export const HEADERS_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS + 1_000;

interface TimedServer {
  keepAliveTimeout: number;
  headersTimeout: number;
}

/** Applies the timeouts above to a node:http(s) server (serve() may also hand back an HTTP/2 one: left as is). */
export function applyServerTimeouts(server: object): void {
  if (!('keepAliveTimeout' in server) || !('headersTimeout' in server)) return;
  const http = server as TimedServer;
  http.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  http.headersTimeout = HEADERS_TIMEOUT_MS;
}
