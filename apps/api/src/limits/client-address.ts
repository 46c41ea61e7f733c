import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * The address a request came from. By default the socket's peer; behind `trustedProxies` proxies (each
 * appending the address it saw to X-Forwarded-For) it is the entry that many places from the right, which
 * the nearest trusted proxy wrote, so a client cannot choose it by sending its own X-Forwarded-For.
 * `unknown` when neither says (e.g. a request built in process, without a socket).
 */
export function clientAddress(c: Context, trustedProxies: number): string {
  if (trustedProxies > 0) {
    const chain = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((hop) => hop.trim())
      .filter(Boolean);
    const hop = chain[Math.max(0, chain.length - trustedProxies)];
    if (hop) return normalize(hop);
  }
  try {
    return normalize(getConnInfo(c).remote.address ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** IPv4 as IPv4 whether the socket is dual-stack or not (`::ffff:10.0.0.1` → `10.0.0.1`); bounded in length. */
const normalize = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').slice(0, 64);
