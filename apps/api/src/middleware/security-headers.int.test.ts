import { describe, expect, it } from 'vitest';
import { useTestApp } from '../test-support';

/** Security headers on every kind of answer the API gives: success, error, download. */

const api = useTestApp();

const EXPECTED = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
};

function expectSecurityHeaders(res: Response) {
  for (const [name, value] of Object.entries(EXPECTED)) expect(res.headers.get(name), name).toBe(value);
}

describe('security headers', () => {
  it('are on a success answer, without HSTS by default', async () => {
    const res = await api.call('GET', '/health/live');
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('are on an authenticated JSON answer', async () => {
    const job = await api.tenant.submit();
    const res = await api.tenant.call('GET', `/v1/jobs/${job.id}`);
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
  });

  it.each([
    ['401 (no key)', 'GET', '/v1/jobs', 401],
    ['404 (no such route)', 'GET', '/v1/nothing-here', 404],
  ])('are on a problem+json error answer: %s', async (_, method, path, status) => {
    const res = await api.call(method, path);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expectSecurityHeaders(res);
  });

  it('are on a 400 from a handler that threw, and on a 413 from the body limit', async () => {
    const bad = await api.tenant.call('POST', '/v1/jobs', { body: '{not json' });
    expect(bad.status).toBe(400);
    expectSecurityHeaders(bad);
    const app = api.build({ bodyLimitBytes: 1024 });
    const big = await api.tenant.call('POST', '/v1/jobs', {
      app,
      body: { type: 'noop', payload: { echo: 'x'.repeat(4096) } },
    });
    expect(big.status).toBe(413);
    expectSecurityHeaders(big);
  });

  it('are on an artifact download, next to its own headers', async () => {
    const t = api.tenant;
    const { row } = await api.newArtifact(t, {
      content: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      name: 'x.svg',
      contentType: 'image/svg+xml',
    });
    const res = await t.call('GET', `/v1/artifacts/${row.id}`);
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
  });

  it('send Strict-Transport-Security only when a max-age is configured', async () => {
    const app = api.build({ hstsMaxAgeS: 31_536_000 });
    const ok = await app.request('/health/live');
    expect(ok.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const error = await app.request('/v1/jobs');
    expect(error.status).toBe(401);
    expect(error.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expectSecurityHeaders(error);
  });
});
