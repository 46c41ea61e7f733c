import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { JobError, PermanentError } from '@conveyor/shared';
import type { Allowlist } from '../fetch/allowlist';
import { resolveTarget, type Target } from '../fetch/resolve';

export interface PostOptions {
  allowlist: Allowlist;
  /** Time for the whole request (DNS, connect, answer), in ms. */
  timeoutMs: number;
}

/** Connects to the address already checked, never to a fresh DNS answer (no rebinding). */
const pinned =
  (target: Target): LookupFunction =>
  (_host, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };

/**
 * POSTs a webhook body to a tenant's URL under the image fetcher's address policy (apps/worker/src/fetch):
 * http/https only, the host resolved once and refused when any address is loopback, private, link-local or
 * reserved (unless FETCH_ALLOWLIST admits it), and the connection made to that checked address. Redirects
 * are not followed (a 3xx is an answer like any other non-2xx). Resolves with the status; a refused or
 * unresolvable address throws PermanentError, network trouble and the timeout throw JobError.
 */
export async function postWebhook(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<{ status: number }> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new PermanentError('fetch_denied', 'the webhook URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new PermanentError(
      'fetch_denied',
      `refusing to post to a ${url.protocol} URL: http and https only`,
    );
  try {
    const target = await resolveTarget(url, options.allowlist, signal);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const requestOptions: https.RequestOptions = {
      protocol: url.protocol,
      hostname: host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'conveyor-webhooks/1',
      },
      agent: false,
      lookup: pinned(target),
      signal,
    };
    if (target.address !== host) requestOptions.servername = host;
    return await new Promise<{ status: number }>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(requestOptions, (res) => {
        // The answer's body means nothing to us: drain it so the socket closes cleanly.
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  } catch (error) {
    if (error instanceof PermanentError || error instanceof JobError) throw error;
    if (signal.aborted)
      throw new JobError('webhook_timeout', `no answer from ${url.host} within ${options.timeoutMs} ms`, {
        cause: error,
      });
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new JobError('webhook_failed', `posting to ${url.host} failed (${code})`, { cause: error });
  }
}
