import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { lookup } from 'node:dns/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobError, PermanentError } from '@conveyor/shared';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ALLOWLIST, parseAllowlist } from './allowlist';
import { fetchImage, type SafeFetchOptions } from './safe-fetch';

/**
 * The fetcher against real local HTTP servers. Refusals are checked two ways: the target server counts
 * the connections it accepts, and a diagnostics_channel subscriber counts every client socket this process
 * creates, so "refused with no connection made" holds even for targets nothing listens on (169.254.169.254).
 */

interface TestServer {
  host: string;
  port: number;
  /** Base URL, e.g. http://127.0.0.1:1234 or http://[::1]:1234. */
  url: string;
  connections: number;
  close(): Promise<void>;
}

async function serve(host: string, handler: RequestListener): Promise<TestServer> {
  const server: Server = createServer(handler);
  const state = { connections: 0 };
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Client sockets created while `work` runs. */
async function socketsDuring(work: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const onSocket = () => count++;
  subscribe('net.client.socket', onSocket);
  try {
    await work().catch(() => undefined);
  } finally {
    unsubscribe('net.client.socket', onSocket);
  }
  return count;
}

let png: Buffer;
const servers: TestServer[] = [];
const track = async (s: Promise<TestServer>) => {
  const server = await s;
  servers.push(server);
  return server;
};

const options = (overrides: Partial<SafeFetchOptions> = {}): SafeFetchOptions => ({
  allowlist: EMPTY_ALLOWLIST,
  maxBytes: 1024 * 1024,
  timeoutMs: 5_000,
  ...overrides,
});

beforeAll(async () => {
  png = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('fetchImage: the SSRF battery', () => {
  let v4: TestServer;
  let v6: TestServer;
  /** An allowlisted server on 127.0.0.2 that redirects wherever ?to= says. */
  let redirector: TestServer;

  beforeAll(async () => {
    const target: RequestListener = (_req, res) =>
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    v4 = await track(serve('127.0.0.1', target));
    v6 = await track(serve('::1', target));
    redirector = await track(
      serve('127.0.0.2', (req, res) => {
        const to = new URL(req.url!, 'http://x').searchParams.get('to')!;
        res.writeHead(302, { location: to }).end();
      }),
    );
  });

  const refusals = () =>
    [
      ['IPv4 loopback', `http://127.0.0.1:${v4.port}/a.png`, v4],
      ['IPv6 loopback', `http://[::1]:${v6.port}/a.png`, v6],
      ['decimal IPv4', `http://2130706433:${v4.port}/a.png`, v4],
      ['hex IPv4', `http://0x7f000001:${v4.port}/a.png`, v4],
      ['octal IPv4', `http://0177.0.0.1:${v4.port}/a.png`, v4],
      ['short IPv4', `http://127.1:${v4.port}/a.png`, v4],
      ['IPv4-mapped IPv6', `http://[::ffff:127.0.0.1]:${v4.port}/a.png`, v4],
      ['0.0.0.0 (this host)', `http://0.0.0.0:${v4.port}/a.png`, v4],
      ['a name resolving to loopback', `http://localhost:${v4.port}/a.png`, v4],
      ['the same name in capitals', `http://LOCALHOST:${v4.port}/a.png`, v4],
    ] as const;

  it('refuses loopback in every spelling without connecting to it', async () => {
    for (const [label, url, target] of refusals()) {
      const before = v4.connections + v6.connections;
      let error: unknown;
      const sockets = await socketsDuring(() => fetchImage(url, options()).catch((e) => (error = e)));
      expect(error, label).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code, label).toBe('fetch_denied');
      expect(sockets, `${label}: client sockets`).toBe(0);
      expect(v4.connections + v6.connections, `${label}: target connections`).toBe(before);
      expect(target.connections, label).toBe(0);
    }
  });

  it('refuses the cloud metadata address and other private ranges without opening a socket', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://100.100.100.200/latest/meta-data/',
      'http://10.0.0.1/',
      'http://172.16.0.1/',
      'http://192.168.1.1/',
      'http://[fe80::1]/',
      'http://[::ffff:169.254.169.254]/',
      'http://[64:ff9b::a9fe:a9fe]/',
    ]) {
      let error: unknown;
      const sockets = await socketsDuring(() => fetchImage(url, options()).catch((e) => (error = e)));
      expect((error as PermanentError).code, url).toBe('fetch_denied');
      expect(sockets, url).toBe(0);
    }
  });

  it('refuses schemes other than http and https', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/a.png', 'gopher://127.0.0.1:70/']) {
      await expect(fetchImage(url, options()), url).rejects.toMatchObject({ code: 'fetch_denied' });
    }
  });

  it('re-checks a redirect: an allowlisted server cannot send the fetch on to loopback', async () => {
    const allowlist = parseAllowlist(['127.0.0.2']);
    for (const to of [
      `http://127.0.0.1:${v4.port}/a.png`,
      `http://localhost:${v4.port}/a.png`,
      `http://2130706433:${v4.port}/a.png`,
      `http://[::1]:${v6.port}/a.png`,
      'http://169.254.169.254/latest/meta-data/',
      'file:///etc/passwd',
    ]) {
      const before = redirector.connections;
      let error: unknown;
      const url = `${redirector.url}/r?to=${encodeURIComponent(to)}`;
      const sockets = await socketsDuring(() =>
        fetchImage(url, options({ allowlist })).catch((e) => (error = e)),
      );
      expect((error as PermanentError).code, to).toBe('fetch_denied');
      // One socket: to the redirector. None to the redirect's target.
      expect(sockets, to).toBe(1);
      expect(redirector.connections - before, to).toBe(1);
    }
    expect(v4.connections).toBe(0);
    expect(v6.connections).toBe(0);
  });
});

describe('fetchImage: what it does fetch', () => {
  it('fetches an image from an allowlisted address and sniffs its type, not trusting Content-Type', async () => {
    const server = await track(
      serve('127.0.0.2', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(png)),
    );
    const got = await fetchImage(`${server.url}/x`, options({ allowlist: parseAllowlist(['127.0.0.0/30']) }));
    expect(got.contentType).toBe('image/png');
    expect(got.data.equals(png)).toBe(true);
    expect(server.connections).toBe(1);
  });

  it('fetches through an allowlisted host name, connecting to the address it resolved', async () => {
    const { address } = await lookup('localhost');
    const server = await track(serve(address, (_req, res) => res.writeHead(200).end(png)));
    const got = await fetchImage(
      `http://localhost:${server.port}/p.png`,
      options({ allowlist: parseAllowlist(['LOCALHOST']) }),
    );
    expect(got.data.equals(png)).toBe(true);
  });

  it('follows redirects within the allowlist, up to the limit', async () => {
    const server = await track(
      serve('127.0.0.2', (req, res) => {
        const n = Number(req.url!.slice(1));
        if (n > 0) res.writeHead(307, { location: `/${n - 1}` }).end();
        else res.writeHead(200).end(png);
      }),
    );
    const allowlist = parseAllowlist(['127.0.0.2']);
    const got = await fetchImage(`${server.url}/3`, options({ allowlist, maxRedirects: 3 }));
    expect(got.url).toBe(`${server.url}/0`);
    await expect(
      fetchImage(`${server.url}/4`, options({ allowlist, maxRedirects: 3 })),
    ).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'fetch_failed',
    });
  });
});

describe('fetchImage: caps and failures', () => {
  const allowlist = parseAllowlist(['127.0.0.2']);
  let server: TestServer;
  const big = () => Buffer.concat([png.subarray(0, 16), Buffer.alloc(2 * 1024 * 1024)]);

  beforeAll(async () => {
    server = await track(
      serve('127.0.0.2', (req, res) => {
        switch (req.url) {
          case '/declared-large':
            res.writeHead(200, { 'content-length': String(big().length) }).end(big());
            return;
          case '/chunked-large':
            res.writeHead(200);
            for (let i = 0; i < 40; i++) res.write(i === 0 ? png.subarray(0, 16) : Buffer.alloc(64 * 1024));
            res.end();
            return;
          case '/html':
            res.writeHead(200, { 'content-type': 'image/png' }).end('<html><body>not an image</body></html>');
            return;
          case '/hang':
            res.writeHead(200);
            res.write(png.subarray(0, 16)); // and never more
            return;
          case '/404':
            res.writeHead(404).end();
            return;
          case '/503':
            res.writeHead(503).end();
            return;
          default:
            res.writeHead(200).end(png);
        }
      }),
    );
  });

  it('refuses a body over the size cap, declared or streamed', async () => {
    for (const path of ['/declared-large', '/chunked-large']) {
      const error = await fetchImage(`${server.url}${path}`, options({ allowlist })).catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code, path).toBe('fetch_too_large');
    }
  });

  it('refuses content that is not an image whatever its Content-Type says', async () => {
    await expect(fetchImage(`${server.url}/html`, options({ allowlist }))).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'fetch_not_image',
    });
  });

  it('gives up at the time cap with a retryable error', async () => {
    const startedAt = Date.now();
    const error = await fetchImage(`${server.url}/hang`, options({ allowlist, timeoutMs: 300 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobError);
    expect((error as JobError).code).toBe('fetch_timeout');
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it("stops at once when the job's signal fires, with the signal's reason", async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort('canceled'), 100);
    const startedAt = Date.now();
    const error = await fetchImage(`${server.url}/hang`, options({ allowlist, signal: stop.signal })).catch(
      (e: unknown) => e,
    );
    expect(error).toBe('canceled');
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it('fails for good on a client error and retryably on a server error or refused connection', async () => {
    await expect(fetchImage(`${server.url}/404`, options({ allowlist }))).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'fetch_failed',
    });
    await expect(fetchImage(`${server.url}/503`, options({ allowlist }))).rejects.toMatchObject({
      name: 'JobError',
      code: 'fetch_failed',
    });
    const closed = await serve('127.0.0.2', () => undefined);
    await closed.close();
    await expect(fetchImage(`${closed.url}/`, options({ allowlist }))).rejects.toMatchObject({
      name: 'JobError',
      code: 'fetch_failed',
    });
  });
});
