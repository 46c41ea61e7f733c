import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, type JobView, type Problem, uuidv7 } from '@conveyor/shared';
import {
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../app';
import { jwtOptions as jwtOptionsOf, loadApiConfig } from '../config';
import { problemWithoutRequestId, send, useTestApp } from '../test-support';
import type { JwtOptions } from './jwt';

/** JWT bearer tokens: verified against a local JWKS server (or an HS256 secret), mapped to tenant and scopes. */

const ISSUER = 'https://id.conveyor.test/';
const AUDIENCE = 'conveyor-api';
const HS256_SECRET = 'a-test-secret-of-at-least-32-bytes-long!';

/** A JWKS endpoint on 127.0.0.1 whose key set a test can replace; counts its fetches. */
async function startJwksServer(keys: JWK[]) {
  const state = { keys, fetches: 0 };
  const server: Server = createServer((_req, res) => {
    state.fetches++;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function newSigningKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}
type SigningKey = Awaited<ReturnType<typeof newSigningKey>>;

const current = await newSigningKey('key-1');
const jwks = await startJwksServer([current.jwk]);
const jwtOptions = (overrides: Partial<JwtOptions> = {}): JwtOptions => ({
  jwksUrl: jwks.url,
  issuer: ISSUER,
  audience: AUDIENCE,
  ...overrides,
});

const api = useTestApp({ jwt: jwtOptions() });
afterAll(() => jwks.close());

const now = () => Math.floor(Date.now() / 1000);

interface TokenInit {
  claims?: JWTPayload;
  key?: SigningKey;
  issuer?: string;
  audience?: string;
  expiresAt?: number;
}

/** A token for the file's tenant with every scope, signed by the JWKS key unless `init` says otherwise. */
function token(init: TokenInit = {}): Promise<string> {
  const key = init.key ?? current;
  return new SignJWT({ tenant_id: api.tenant.tenantId, scope: 'jobs:read jobs:write', ...init.claims })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(init.issuer ?? ISSUER)
    .setAudience(init.audience ?? AUDIENCE)
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime(init.expiresAt ?? now() + 300)
    .sign(key.privateKey);
}

const hs256Token = (claims: JWTPayload = {}, secret = HS256_SECRET) =>
  new SignJWT({ tenant_id: api.tenant.tenantId, scope: 'jobs:read jobs:write', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('user-1')
    .setExpirationTime(now() + 300)
    .sign(new TextEncoder().encode(secret));

const bearer = (jwt: string, method = 'GET', path = '/v1/jobs', app?: App) =>
  send(app ?? api.app, method, path, {
    headers: { authorization: `Bearer ${jwt}` },
    ...(method === 'POST' && path === '/v1/jobs' ? { body: { type: 'noop' } } : {}),
  });

/** The 401 an unknown API key gets, without its request id: every refused token must get exactly this. */
async function refusal(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  return problemWithoutRequestId(res);
}

describe('JWT bearer tokens (JWKS)', () => {
  it('accepts a valid token and files the job under the claimed tenant', async () => {
    const res = await bearer(await token(), 'POST');
    expect(res.status, await res.clone().text()).toBe(202);
    const job = (await res.json()) as JobView;
    // The tenant's own API key sees the job; another tenant's answers like a random id.
    expect((await api.tenant.call('GET', `/v1/jobs/${job.id}`)).status).toBe(200);
    const other = await api.newTenant();
    expect((await other.call('GET', `/v1/jobs/${job.id}`)).status).toBe(404);
  });

  it('accepts the scopes as an array claim', async () => {
    const res = await bearer(await token({ claims: { scope: ['jobs:write'] } }), 'POST');
    expect(res.status).toBe(202);
  });

  it('answers 403 to a token whose scope claim lacks jobs:write', async () => {
    const jwt = await token({ claims: { scope: 'jobs:read openid' } });
    const res = await bearer(jwt, 'POST');
    expect(res.status).toBe(403);
    expect(((await res.json()) as Problem).code).toBe('forbidden');
    expect((await bearer(jwt)).status).toBe(200);
  });

  it("does not let a token for tenant A read tenant B's job", async () => {
    const b = await api.newTenant();
    const job = await b.submit();
    expect((await bearer(await token(), 'GET', `/v1/jobs/${job.id}`)).status).toBe(404);
    const asB = await token({ claims: { tenant_id: b.tenantId } });
    expect((await bearer(asB, 'GET', `/v1/jobs/${job.id}`)).status).toBe(200);
  });

  it('refuses every bad token with the same 401 body as an unknown API key', async () => {
    const otherKey = await newSigningKey(current.kid);
    const pem = await exportSPKI(current.publicKey);
    const valid = await token();
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as JWTPayload;
    const tampered = base64url.encode(
      JSON.stringify({ ...claims, tenant_id: (await api.newTenant()).tenantId }),
    );
    const cases: Record<string, string> = {
      expired: await token({ expiresAt: now() - 120 }),
      'not yet valid': await token({ claims: { nbf: now() + 120 } }),
      'wrong issuer': await token({ issuer: 'https://evil.test/' }),
      'wrong audience': await token({ audience: 'someone-else' }),
      'wrong key (same kid)': await token({ key: otherKey }),
      'unknown kid': await token({ key: await newSigningKey('key-unknown') }),
      'alg none': new UnsecuredJWT({ tenant_id: api.tenant.tenantId, scope: 'jobs:read' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject('user-1')
        .setExpirationTime(now() + 300)
        .encode(),
      'HS256 signed with the public key': await new SignJWT({
        tenant_id: api.tenant.tenantId,
        scope: 'jobs:read',
      })
        .setProtectedHeader({ alg: 'HS256', kid: current.kid })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject('user-1')
        .setExpirationTime(now() + 300)
        .sign(new TextEncoder().encode(pem)),
      'tampered payload': `${header}.${tampered}.${signature}`,
      'unknown tenant': await token({ claims: { tenant_id: uuidv7() } }),
      'tenant not a uuid': await token({ claims: { tenant_id: 'acme' } }),
      'no tenant claim': await token({ claims: { tenant_id: undefined } }),
      'no scope claim': await token({ claims: { scope: undefined } }),
      'scope claim not a string or list': await token({ claims: { scope: 42 } }),
    };
    const noSub = await new SignJWT({ tenant_id: api.tenant.tenantId, scope: 'jobs:read' })
      .setProtectedHeader({ alg: 'ES256', kid: current.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(now() + 300)
      .sign(current.privateKey);
    cases['no sub'] = noSub;
    const reference = await refusal(await send(api.app, 'GET', '/v1/jobs', { key: 'cvr_00000000_unknown' }));
    expect(reference).toMatchObject({ status: 401, code: 'unauthenticated' });
    // The control: the untouched token is accepted, so each case fails for its own reason.
    expect((await bearer(valid)).status).toBe(200);
    for (const [name, jwt] of Object.entries(cases)) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await bearer(jwt, method);
        expect(res.status, `${name} ${method}`).toBe(401);
        expect(await refusal(res), `${name} ${method}`).toEqual(reference);
      }
    }
  });

  it('counts refused tokens toward the failed-authentication throttle', async () => {
    const limited = api.build({
      limits: { points: 0, windowSeconds: 60, authFailures: 2, trustedProxies: 1 },
    });
    const bad = await token({ audience: 'someone-else' });
    const headers = { authorization: `Bearer ${bad}`, 'x-forwarded-for': '203.0.113.9' };
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(limited, 'GET', '/v1/jobs', { headers })).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('answers a JWT with the standard 401 when JWT is not configured', async () => {
    const off = api.build({ jwt: undefined });
    const reference = await refusal(await send(off, 'GET', '/v1/jobs'));
    expect(await refusal(await bearer(await token(), 'GET', '/v1/jobs', off))).toEqual(reference);
  });

  it('picks up a rotated key with a new kid after the JWKS is fetched again', async () => {
    const first = await newSigningKey('rotate-1');
    const server = await startJwksServer([first.jwk]);
    try {
      const rotating = api.build({ jwt: jwtOptions({ jwksUrl: server.url, jwksCooldownMs: 200 }) });
      expect((await bearer(await token({ key: first }), 'GET', '/v1/jobs', rotating)).status).toBe(200);
      expect(server.state.fetches).toBe(1);
      const second = await newSigningKey('rotate-2');
      server.state.keys = [second.jwk];
      await new Promise((r) => setTimeout(r, 250));
      // An unknown kid makes the verifier fetch the set again (no more often than the cooldown).
      expect((await bearer(await token({ key: second }), 'GET', '/v1/jobs', rotating)).status).toBe(200);
      expect(server.state.fetches).toBe(2);
      // The retired key is gone from the set, so its tokens are refused now.
      await new Promise((r) => setTimeout(r, 250));
      expect((await bearer(await token({ key: first }), 'GET', '/v1/jobs', rotating)).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe('JWT bearer tokens (HS256 secret)', () => {
  const hsApp = () => api.build({ jwt: { hs256Secret: HS256_SECRET, issuer: ISSUER, audience: AUDIENCE } });

  it('accepts an HS256 token signed with the secret', async () => {
    const app = hsApp();
    const res = await bearer(await hs256Token(), 'POST', '/v1/jobs', app);
    expect(res.status, await res.clone().text()).toBe(202);
    expect((await api.tenant.call('GET', `/v1/jobs/${((await res.json()) as JobView).id}`)).status).toBe(200);
  });

  it('refuses an ES256 token and an HS256 token with another secret', async () => {
    const app = hsApp();
    const reference = await refusal(await send(app, 'GET', '/v1/jobs'));
    const es256 = await bearer(await token(), 'GET', '/v1/jobs', app);
    expect(await refusal(es256)).toEqual(reference);
    const otherSecret = await hs256Token({}, 'another-secret-that-is-32-bytes-or-more');
    expect(await refusal(await bearer(otherSecret, 'GET', '/v1/jobs', app))).toEqual(reference);
  });

  it('is never accepted by an app configured with a JWKS', async () => {
    expect((await bearer(await hs256Token())).status).toBe(401);
  });
});

describe('JWT configuration', () => {
  const base = { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };
  const problems = (env: Record<string, string>) => {
    try {
      loadApiConfig(env);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems;
    }
  };

  it('is off when neither a JWKS URL nor a secret is set', () => {
    expect(jwtOptionsOf(loadApiConfig({}))).toBeUndefined();
  });

  it('maps a JWKS or a secret, with defaults for the claims and clock tolerance', () => {
    expect(jwtOptionsOf(loadApiConfig({ ...base, JWT_JWKS_URL: 'https://id.example.com/jwks' }))).toEqual({
      jwksUrl: 'https://id.example.com/jwks',
      hs256Secret: undefined,
      issuer: ISSUER,
      audience: AUDIENCE,
      tenantClaim: 'tenant_id',
      scopesClaim: 'scope',
      clockToleranceS: 30,
    });
    expect(jwtOptionsOf(loadApiConfig({ ...base, JWT_HS256_SECRET: HS256_SECRET }))?.hs256Secret).toBe(
      HS256_SECRET,
    );
  });

  it('refuses to start without issuer and audience, with both key sources, or with a short secret', () => {
    expect(problems({ JWT_JWKS_URL: 'https://id.example.com/jwks' }).join('\n')).toMatch(
      /JWT_ISSUER[\s\S]*JWT_AUDIENCE/,
    );
    expect(
      problems({ ...base, JWT_JWKS_URL: 'https://id.example.com/jwks', JWT_HS256_SECRET: HS256_SECRET }),
    ).toEqual([expect.stringMatching(/^JWT_HS256_SECRET: /)]);
    expect(problems({ ...base, JWT_HS256_SECRET: 'too-short' })).toEqual([
      expect.stringMatching(/^JWT_HS256_SECRET: must be at least 32 bytes/),
    ]);
    expect(problems({ ...base, JWT_JWKS_URL: 'ftp://id.example.com/jwks' })).toEqual([
      expect.stringMatching(/^JWT_JWKS_URL: /),
    ]);
    expect(problems({ JWT_ISSUER: ISSUER })).toEqual([expect.stringMatching(/^JWT_ISSUER: /)]);
  });
});
