import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useApiProcess } from '../helpers/use-api-process';

/**
 * Body limits on the real HTTP server, with raw sockets: a declared length over the limit, a chunked body
 * with no length, and a lying length. Each is refused, and no oversized body reaches a handler (no job).
 */
describe('body limits on the wire', () => {
  const ctx = useApiProcess({
    tenant: 'limits',
    scopes: ['jobs:write', 'jobs:read'],
    env: { BODY_LIMIT_BYTES: '2048' },
  });

  /** Sends raw bytes, returns what came back before the server closed or 3 s passed. */
  function raw(head: string, body: Buffer | string): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(ctx.port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => {
        answer += d.toString();
      });
      const done = () => resolve(answer);
      socket.on('close', done);
      socket.on('error', done);
      setTimeout(() => {
        socket.destroy();
        done();
      }, 3_000);
      socket.write(head);
      socket.write(body);
    });
  }
  const headers = (extra: string) =>
    `POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.key}\r\nContent-Type: application/json\r\n${extra}\r\n`;
  const big = Buffer.from(JSON.stringify({ type: 'noop', payload: { echo: 'x'.repeat(10_000) } }));
  const jobCount = async () => {
    const { listJobs } = await import('@conveyor/db');
    return (await listJobs(ctx.db.db, { tenantId: ctx.tenantId, limit: 100 })).rows.length;
  };

  it('refuses a declared length over the limit with 413 problem+json', async () => {
    const answer = await raw(headers(`Content-Length: ${big.length}\r\n`), big);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toContain('application/problem+json');
    expect(answer).toContain('"code":"payload_too_large"');
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    const chunk = (b: Buffer) =>
      Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
    const body = Buffer.concat([
      chunk(big.subarray(0, 1_500)),
      chunk(big.subarray(1_500)),
      Buffer.from('0\r\n\r\n'),
    ]);
    const answer = await raw(headers('Transfer-Encoding: chunked\r\n'), body);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
  });

  it('never hands a handler more than a lying Content-Length declares', async () => {
    // Declares 40 bytes and sends 10 KB: the server reads 40 bytes (not JSON → 400) and treats the rest as
    // garbage on the connection (400 and close). No job is created from the oversized payload.
    const answer = await raw(headers('Content-Length: 40\r\n'), big);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).not.toMatch(/HTTP\/1\.1 202/);
  });

  it('refuses both Content-Length and Transfer-Encoding together (request smuggling) with 400', async () => {
    const answer = await raw(headers(`Content-Length: 10\r\nTransfer-Encoding: chunked\r\n`), '0\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });

  it('created no job from any of these requests', async () => {
    expect(await jobCount()).toBe(0);
  });
});
