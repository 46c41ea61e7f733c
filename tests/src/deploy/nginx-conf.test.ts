import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadApiConfig } from '@conveyor/api';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/env';

/**
 * deploy/nginx/nginx.conf against the numbers of the API it fronts. tests/src/e2e/nginx.test.ts runs the
 * file for real; this checks what an end-to-end run cannot see quickly (an hour-long read timeout) and
 * what must move together when an API default changes.
 */

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const conf = read('deploy/nginx/nginx.conf').replace(/#.*$/gm, '');
const api = loadApiConfig({});

/** The body of the first `<head> { … }` block (nested blocks included). */
function block(text: string, head: RegExp): string {
  const m = new RegExp(`${head.source}\\s*\\{`, head.flags).exec(text);
  if (!m) throw new Error(`nginx.conf: no block ${head}`);
  let depth = 1;
  let i = m.index + m[0].length;
  const start = i;
  for (; depth > 0 && i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}') depth--;
  }
  return text.slice(start, i - 1);
}

/** A block's own directives (nested blocks removed) as name → values. */
function directives(body: string): Map<string, string[]> {
  let flat = body;
  for (let prev = ''; prev !== flat; ) {
    prev = flat;
    flat = flat.replace(/[^;{}]*\{[^{}]*\}/g, '');
  }
  const map = new Map<string, string[]>();
  for (const stmt of flat.split(';')) {
    const [name, ...rest] = stmt.trim().split(/\s+/);
    if (name) map.set(name, [...(map.get(name) ?? []), rest.join(' ')]);
  }
  return map;
}

const one = (d: Map<string, string[]>, name: string) => {
  const values = d.get(name) ?? [];
  expect(values, name).toHaveLength(1);
  return values[0]!;
};
const bytes = (size: string) => {
  const m = /^(\d+)([kmg]?)$/i.exec(size)!;
  return Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k']!;
};
const seconds = (time: string) => {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(time)!;
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's'];
};

const http = block(conf, /^http/m);
const server = block(http, /server/);
const serverD = directives(server);
const sse = block(server, /location ~ \S+/);
const sseRegex = new RegExp(/location ~ (\S+)\s*\{/.exec(server)![1]!);
const uploads = directives(block(server, /location \/v1\/uploads/));

describe('deploy/nginx/nginx.conf', () => {
  it('accepts the bodies the API accepts: JSON up to BODY_LIMIT_BYTES, uploads up to UPLOAD_LIMIT_BYTES', () => {
    expect(bytes(one(serverD, 'client_max_body_size'))).toBe(api.BODY_LIMIT_BYTES);
    expect(bytes(one(uploads, 'client_max_body_size'))).toBe(api.UPLOAD_LIMIT_BYTES);
    expect(one(uploads, 'proxy_request_buffering')).toBe('off');
  });

  it('outwaits the longest ?wait= long poll (30 s, apps/api/src/routes/jobs.ts)', () => {
    expect(read('apps/api/src/routes/jobs.ts')).toMatch(/Number\(raw\) > 30/);
    expect(seconds(one(serverD, 'proxy_read_timeout'))).toBeGreaterThan(30);
  });

  it('passes event streams through unbuffered, uncompressed, with a read timeout above the heartbeat', () => {
    for (const path of ['/v1/events', '/v1/jobs/0193c6a2-0000-7000-8000-000000000000/events'])
      expect(path).toMatch(sseRegex);
    for (const path of ['/v1/jobs/0193c6a2-0000-7000-8000-000000000000', '/v1/jobs', '/v1/eventsx'])
      expect(path).not.toMatch(sseRegex);
    const d = directives(sse);
    expect(one(d, 'proxy_buffering')).toBe('off');
    const heartbeatMs = Number(
      /HEARTBEAT_MS = ([\d_]+)/.exec(read('apps/api/src/live/job-events-stream.ts'))![1]!.replace(/_/g, ''),
    );
    expect(seconds(one(d, 'proxy_read_timeout')) * 1000).toBeGreaterThan(heartbeatMs * 2);
    expect(one(directives(http), 'gzip')).toBe('off');
    expect(conf).not.toMatch(/\bgzip\s+on\b/);
  });

  it('keeps HTTP/1.1 connections to the instances alive, closing idle ones before the API does', () => {
    expect(one(serverD, 'proxy_http_version')).toBe('1.1');
    expect(serverD.get('proxy_set_header')).toContain('Connection ""');
    const upstream = directives(block(http, /upstream conveyor_api/));
    expect(Number(one(upstream, 'keepalive'))).toBeGreaterThan(0);
    const apiKeepAliveMs = Number(
      /KEEP_ALIVE_TIMEOUT_MS = ([\d_]+)/
        .exec(read('apps/api/src/http/server-timeouts.ts'))![1]!
        .replace(/_/g, ''),
    );
    expect(seconds(one(upstream, 'keepalive_timeout')) * 1000).toBeLessThan(apiKeepAliveMs);
  });

  it('passes the request id (with the API’s own pattern) and appends the client to X-Forwarded-For', () => {
    const sane = /const SANE_ID = \/(.+)\/;/.exec(read('apps/api/src/middleware/request-context.ts'))![1]!;
    expect(block(http, /map \$http_x_request_id \$conveyor_request_id/)).toContain(`"~${sane}"`);
    const headers = serverD.get('proxy_set_header') ?? [];
    expect(headers).toContain('X-Request-Id $conveyor_request_id');
    expect(headers).toContain('X-Forwarded-For $proxy_add_x_forwarded_for');
    // A location with its own proxy_set_header would drop every inherited one.
    expect(server).not.toMatch(/location[^{]*\{[^}]*proxy_set_header/);
  });

  it('never resends a request that reached an instance', () => {
    expect(one(serverD, 'proxy_next_upstream')).toBe('error timeout');
    expect(conf).not.toContain('non_idempotent');
  });
});
