import { ConfigError } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../config';
import { useTestApp } from '../test-support';
import { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, CORS_MAX_AGE_S } from './cors';

/** CORS: off by default; with CORS_ORIGINS, preflights and answers for the listed origins only. */

const api = useTestApp();
const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

const preflight = (app = api.app, origin = ALLOWED) =>
  app.request('/v1/jobs', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    },
  });

const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'));
const list = (value: string | null) => (value ?? '').split(',').map((v) => v.trim().toLowerCase());

describe('CORS off (no CORS_ORIGINS)', () => {
  it('sends no Access-Control-* header on an answer to a cross-origin request', async () => {
    const res = await api.tenant.call('GET', '/v1/jobs', { headers: { origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
  });

  it('does not answer a preflight: it is an unknown route, without Access-Control-* headers', async () => {
    const res = await preflight();
    expect(res.status).toBe(404);
    expect(corsHeaders(res)).toEqual([]);
  });
});

describe('CORS on for a list of origins', () => {
  const app = () => api.build({ corsOrigins: [ALLOWED, 'http://localhost:5173'] });

  it('answers a preflight from an allowed origin with 204 and the allowed methods, headers and max-age', async () => {
    const res = await preflight(app());
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(list(res.headers.get('access-control-allow-methods'))).toEqual(
      expect.arrayContaining(['get', 'post', 'delete']),
    );
    expect(list(res.headers.get('access-control-allow-headers'))).toEqual(
      CORS_ALLOW_HEADERS.map((h) => h.toLowerCase()),
    );
    expect(res.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_S));
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(list(res.headers.get('vary'))).toContain('origin');
    // Preflights pass through the security headers like any answer.
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('allows the other listed origin too', async () => {
    const res = await preflight(app(), 'http://localhost:5173');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('gives a preflight from an origin not on the list no Access-Control-Allow-Origin', async () => {
    const res = await preflight(app(), OTHER);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets an allowed origin read the answer and its ETag, Location, rate-limit and request-id headers', async () => {
    const res = await api.tenant.call('GET', '/v1/jobs', { app: app(), headers: { origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(list(res.headers.get('access-control-expose-headers'))).toEqual(
      CORS_EXPOSE_HEADERS.map((h) => h.toLowerCase()),
    );
    expect(list(res.headers.get('vary'))).toContain('origin');
  });

  it('lets an allowed origin read an error answer (a 401 problem) too', async () => {
    const res = await app().request('/v1/jobs', { headers: { origin: ALLOWED } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('keeps the CORS headers on a compressed answer, which varies by Origin and Accept-Encoding', async () => {
    const res = await app().request('/openapi.json', {
      headers: { origin: ALLOWED, 'accept-encoding': 'br' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(list(res.headers.get('vary'))).toEqual(expect.arrayContaining(['origin', 'accept-encoding']));
  });

  it('gives an answer to an origin not on the list no Access-Control-Allow-Origin', async () => {
    const res = await api.tenant.call('GET', '/v1/jobs', { app: app(), headers: { origin: OTHER } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS on for any origin (*)', () => {
  it('answers every origin with Access-Control-Allow-Origin: *', async () => {
    const app = api.build({ corsOrigins: ['*'] });
    const pre = await preflight(app, OTHER);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    const res = await api.tenant.call('GET', '/v1/jobs', { app, headers: { origin: OTHER } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('CORS_ORIGINS', () => {
  it('is off (an empty list) when unset or empty', () => {
    expect(loadApiConfig({}).CORS_ORIGINS).toEqual([]);
    expect(loadApiConfig({ CORS_ORIGINS: '' }).CORS_ORIGINS).toEqual([]);
  });

  it('takes * or a comma-separated list of origins', () => {
    expect(loadApiConfig({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toEqual(['*']);
    expect(
      loadApiConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).CORS_ORIGINS,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it.each([
    ['https://app.example.com/'],
    ['https://App.example.com'],
    ['app.example.com'],
    ['*,https://a.example'],
  ])(
    'rejects %j naming the variable (an origin never matches with a path, upper case or without scheme)',
    (value) => {
      expect(() => loadApiConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
      expect(() => loadApiConfig({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS/);
    },
  );
});
