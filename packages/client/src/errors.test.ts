import { describe, expect, it } from 'vitest';
import { ConveyorError, errorFromResponse, parseRetryAfter } from './errors';

const problem = (body: unknown, status: number, headers: Record<string, string> = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });

describe('errorFromResponse', () => {
  it('carries status, code, detail, requestId and field errors of a problem+json answer', async () => {
    const err = await errorFromResponse(
      problem(
        {
          type: 'https://conveyor.dev/problems/validation_failed',
          title: 'Validation failed',
          status: 422,
          detail: 'The payload does not match the kind.',
          code: 'validation_failed',
          requestId: 'req-1',
          errors: [{ path: 'payload.to', message: 'Required' }],
        },
        422,
      ),
    );
    expect(err).toBeInstanceOf(ConveyorError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      status: 422,
      code: 'validation_failed',
      detail: 'The payload does not match the kind.',
      requestId: 'req-1',
      errors: [{ path: 'payload.to', message: 'Required' }],
      retryAfterS: undefined,
    });
    expect(err.message).toBe('422 validation_failed: The payload does not match the kind.');
  });

  it('reads Retry-After of a 429 as seconds', async () => {
    const err = await errorFromResponse(
      problem({ status: 429, code: 'rate_limited', detail: 'Slow down.', requestId: 'r' }, 429, {
        'retry-after': '7',
      }),
    );
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterS).toBe(7);
    expect(err.errors).toEqual([]);
  });

  it('falls back to http_<status> and the X-Request-Id header for a body that is not JSON', async () => {
    const err = await errorFromResponse(
      new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'x-request-id': 'edge-9' } }),
    );
    expect(err).toMatchObject({ status: 502, code: 'http_502', requestId: 'edge-9', problem: undefined });
    expect(err.detail).toContain('Bad Gateway');
  });

  it('gives a usable error for an empty body', async () => {
    const err = await errorFromResponse(
      new Response(null, { status: 503, statusText: 'Service Unavailable' }),
    );
    expect(err).toMatchObject({ status: 503, code: 'http_503', detail: 'Service Unavailable' });
  });
});

describe('parseRetryAfter', () => {
  it('accepts delta-seconds and HTTP dates, and ignores junk', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
