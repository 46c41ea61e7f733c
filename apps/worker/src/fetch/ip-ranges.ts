import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses as numbers and CIDR ranges over them, for the fetcher's address policy. Written out rather
 * than delegated to net.BlockList so that IPv4 addresses embedded in IPv6 ones (mapped, NAT64, 6to4) are
 * unwrapped and judged as the IPv4 address they reach.
 */

export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  base: bigint;
  prefix: number;
}

const bits = (family: Family) => (family === 4 ? 32 : 128);

/** A dotted-quad IPv4 or an IPv6 address (brackets and a zone id allowed); null for anything else. */
export function parseAddress(text: string): Address | null {
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(host)) {
    const value = host.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value };
  }
  const bare = host.split('%')[0]!;
  if (!isIPv6(bare)) return null;
  return { family: 6, value: parseIPv6(bare) };
}

function parseIPv6(text: string): bigint {
  let head = text;
  let tail: number[] = [];
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (quad) {
    const v4 = quad[1]!.split('.').map(Number);
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = head.slice(0, -quad[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  let all: number[];
  if (head.includes('::')) {
    const [left, right] = head.split('::') as [string, string];
    const l = groups(left);
    const r = [...groups(right), ...tail];
    all = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  } else {
    all = [...groups(head), ...tail];
  }
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** `a.b.c.d/n`, `x::y/n`, or a bare address (a range of one). */
export function parseCidr(text: string): Cidr | null {
  const [addr, prefixText, extra] = text.trim().split('/');
  if (extra !== undefined || addr === undefined) return null;
  const parsed = parseAddress(addr);
  if (!parsed) return null;
  const max = bits(parsed.family);
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > max) return null;
  return { family: parsed.family, base: mask(parsed.value, prefix, max), prefix };
}

const mask = (value: bigint, prefix: number, max: number) =>
  prefix === 0 ? 0n : (value >> BigInt(max - prefix)) << BigInt(max - prefix);

export const inCidr = (address: Address, cidr: Cidr) =>
  address.family === cidr.family && mask(address.value, cidr.prefix, bits(cidr.family)) === cidr.base;

const cidrs = (list: string[]) => list.map((c) => parseCidr(c)!);

/** IPv4 ranges that are not the public internet: a fetch to any of them is refused. */
const DENIED_V4 = cidrs([
  '0.0.0.0/8', // "this network"; 0.0.0.0 reaches the local host on Linux
  '10.0.0.0/8', // private
  '100.64.0.0/10', // carrier-grade NAT (and Alibaba's 100.100.100.200 metadata)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata at 169.254.169.254
  '172.16.0.0/12', // private
  '192.0.0.0/24', // IETF protocol assignments (Oracle metadata 192.0.0.192)
  '192.0.2.0/24', // documentation
  '192.88.99.0/24', // 6to4 relay anycast
  '192.168.0.0/16', // private
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation
  '203.0.113.0/24', // documentation
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
]);

/** IPv6 ranges refused outright; the IPv4-carrying ones are handled by embeddedIPv4. */
const DENIED_V6 = cidrs([
  '::/96', // unspecified, loopback (::1) and the deprecated IPv4-compatible form
  '64:ff9b:1::/48', // local-use NAT64
  '100::/64', // discard
  '2001::/23', // IETF protocol assignments (Teredo, ORCHID, documentation-like)
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation
  'fc00::/7', // unique local (AWS metadata fd00:ec2::254)
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
]);

const MAPPED = parseCidr('::ffff:0:0/96')!;
const NAT64 = parseCidr('64:ff9b::/96')!;
const SIX_TO_FOUR = parseCidr('2002::/16')!;

/** The IPv4 address an IPv6 one stands for (mapped, NAT64 or 6to4), if any. */
export function embeddedIPv4(address: Address): Address | null {
  if (address.family !== 6) return null;
  if (inCidr(address, MAPPED) || inCidr(address, NAT64))
    return { family: 4, value: address.value & 0xffffffffn };
  if (inCidr(address, SIX_TO_FOUR)) return { family: 4, value: (address.value >> 80n) & 0xffffffffn };
  return null;
}

/** True when the address is loopback, private, link-local, metadata or otherwise not public. */
export function isDeniedAddress(address: Address): boolean {
  const inner = embeddedIPv4(address);
  if (inner) return isDeniedAddress(inner);
  return (address.family === 4 ? DENIED_V4 : DENIED_V6).some((cidr) => inCidr(address, cidr));
}
