import { type Address, type Cidr, embeddedIPv4, inCidr, parseCidr } from './ip-ranges';

/**
 * FETCH_ALLOWLIST: exceptions to the fetcher's address policy, for local testing and trusted internal
 * sources. An entry is a host name (the URL's host must equal it; whatever it resolves to is then
 * allowed) or an IP address or CIDR range (an address in it is allowed, whatever name led there).
 */
export interface Allowlist {
  hosts: ReadonlySet<string>;
  ranges: readonly Cidr[];
}

const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Lower-cased, without a trailing dot: the form a URL's host is compared in. */
export const normaliseHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

/** The entries FETCH_ALLOWLIST cannot use, for the config error message. */
export function invalidAllowlistEntries(entries: readonly string[]): string[] {
  return entries.filter((e) => !parseCidr(e) && !HOSTNAME.test(normaliseHost(e)));
}

/** Builds the allowlist; entries that are neither a host name nor an address/CIDR throw. */
export function parseAllowlist(entries: readonly string[]): Allowlist {
  const bad = invalidAllowlistEntries(entries);
  if (bad.length > 0) throw new Error(`invalid FETCH_ALLOWLIST entries: ${bad.join(', ')}`);
  const hosts = new Set<string>();
  const ranges: Cidr[] = [];
  for (const entry of entries) {
    const cidr = parseCidr(entry);
    if (cidr) ranges.push(cidr);
    else hosts.add(normaliseHost(entry));
  }
  return { hosts, ranges };
}

export const EMPTY_ALLOWLIST: Allowlist = { hosts: new Set(), ranges: [] };

export const allowsHost = (list: Allowlist, host: string) => list.hosts.has(normaliseHost(host));

/** An IPv4 range also admits that address in IPv6 form (::ffff:a.b.c.d), as the deny list judges it. */
export const allowsAddress = (list: Allowlist, address: Address): boolean => {
  const inner = embeddedIPv4(address);
  return list.ranges.some((cidr) => inCidr(address, cidr) || (inner !== null && inCidr(inner, cidr)));
};
