import { lookup } from 'node:dns/promises';
import { JobError, PermanentError } from '@conveyor/shared';
import { type Allowlist, allowsAddress, allowsHost } from './allowlist';
import { isDeniedAddress, parseAddress } from './ip-ranges';

/** The one address a fetch connects to, decided before any socket exists. */
export interface Target {
  address: string;
  family: 4 | 6;
}

const denied = (host: string, address: string) =>
  new PermanentError(
    'fetch_denied',
    `refusing to fetch from ${host}: ${address} is a loopback, private, link-local or reserved address`,
  );

/** Settles with `work`, or rejects with the signal's reason once it aborts (dns.lookup takes no signal). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Resolves a URL's host once and applies the address policy. An IP literal (the WHATWG parser has already
 * turned `2130706433`, `0x7f000001`, `0177.1` and the like into dotted quads) is judged as it is; a name is
 * looked up with every address it has, and refused when any of them is denied, so a name cannot mix a
 * public record with a private one. The caller connects to the returned address and no other, so a second
 * (rebinding) answer from DNS is never consulted.
 */
export async function resolveTarget(url: URL, allowlist: Allowlist, signal: AbortSignal): Promise<Target> {
  const host = url.hostname;
  const literal = parseAddress(host);
  if (literal) {
    if (isDeniedAddress(literal) && !allowsAddress(allowlist, literal)) throw denied(host, host);
    return { address: host.replace(/^\[|\]$/g, ''), family: literal.family };
  }
  if (host === '') throw new PermanentError('fetch_denied', 'the URL has no host');
  let answers: { address: string; family: number }[];
  try {
    answers = await abortable(lookup(host, { all: true }), signal);
  } catch (error) {
    if (signal.aborted) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA')
      throw new PermanentError('fetch_failed', `${host} does not resolve`, { cause: error });
    throw new JobError('fetch_failed', `could not resolve ${host} (${code ?? 'error'})`, { cause: error });
  }
  const trustedName = allowsHost(allowlist, host);
  for (const answer of answers) {
    const address = parseAddress(answer.address);
    if (!address) throw denied(host, answer.address);
    if (!trustedName && isDeniedAddress(address) && !allowsAddress(allowlist, address))
      throw denied(host, answer.address);
  }
  const first = answers[0];
  if (!first) throw new PermanentError('fetch_failed', `${host} does not resolve`);
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
