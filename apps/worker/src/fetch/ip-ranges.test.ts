import { describe, expect, it } from 'vitest';
import { allowsAddress, allowsHost, invalidAllowlistEntries, parseAllowlist } from './allowlist';
import { isDeniedAddress, parseAddress, parseCidr } from './ip-ranges';

const denied = (text: string) => {
  const address = parseAddress(text);
  if (!address) throw new Error(`not an address: ${text}`);
  return isDeniedAddress(address);
};

describe('isDeniedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '100.100.100.200',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '192.0.0.192',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'fe80::1%eth0',
    'ff02::1',
    '2001:db8::1',
  ])('denies %s', (text) => {
    expect(denied(text)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows public %s', (text) => {
    expect(denied(text)).toBe(false);
  });

  it('parses only dotted quads and IPv6, leaving other spellings to the URL parser', () => {
    for (const text of ['2130706433', '0x7f000001', '127.1', 'localhost', '1.2.3.4.5', '']) {
      expect(parseAddress(text), text).toBeNull();
    }
  });
});

describe('parseCidr', () => {
  it('reads ranges and single addresses, and rejects bad prefixes', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ family: 4, prefix: 8 });
    expect(parseCidr('10.1.2.3/8')).toEqual(parseCidr('10.0.0.0/8'));
    expect(parseCidr('::1')).toMatchObject({ family: 6, prefix: 128 });
    for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/x', '10.0.0.0/8/8', 'example.com/24']) {
      expect(parseCidr(bad), bad).toBeNull();
    }
  });
});

describe('FETCH_ALLOWLIST', () => {
  it('takes host names, addresses and CIDRs; reports anything else', () => {
    expect(
      invalidAllowlistEntries(['localhost', 'Images.Example.com.', '127.0.0.1', '10.0.0.0/8', '::1']),
    ).toEqual([]);
    expect(invalidAllowlistEntries(['http://x', 'a b', '10.0.0.0/40', '*.example.com'])).toHaveLength(4);
    expect(() => parseAllowlist(['ok.example', 'not ok'])).toThrow(/not ok/);
  });

  it('matches host names case-insensitively and addresses by range, IPv4 also in mapped form', () => {
    const list = parseAllowlist(['LocalHost', '127.0.0.2/32']);
    expect(allowsHost(list, 'localhost')).toBe(true);
    expect(allowsHost(list, 'localhost.')).toBe(true);
    expect(allowsHost(list, 'localhost.example')).toBe(false);
    expect(allowsAddress(list, parseAddress('127.0.0.2')!)).toBe(true);
    expect(allowsAddress(list, parseAddress('::ffff:127.0.0.2')!)).toBe(true);
    expect(allowsAddress(list, parseAddress('127.0.0.1')!)).toBe(false);
  });
});
