import { apiKeys } from '@conveyor/db/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { operationsOf } from '../helpers/openapi-routes';
import { ADMIN_TOKEN, plausibleRequest, randomId } from './fixtures';

/** API keys are stored only as hashes and never reach a log line, whatever is sent with them. */

const lines: string[] = [];
let h: Harness;

beforeAll(async () => {
  h = await createHarness({ logDestination: { write: (line: string) => void lines.push(line) } });
});

afterAll(async () => {
  await h?.close();
});

/** The secret part of a `cvr_<8 hex prefix>_<secret>` key (the secret is base64url, so it may hold `_` too). */
const secretOf = (key: string) => {
  const secret = key.slice('cvr_00000000_'.length);
  expect(secret).toHaveLength(32);
  return secret;
};

describe('API keys', () => {
  it('are stored as hashes: no column of api_keys holds a key or its secret', async () => {
    const created = await h.app.request(`/v1/admin/tenants/${h.tenantId}/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"name":"second"}',
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const rows = await h.db.db.select().from(apiKeys);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const stored = JSON.stringify(rows);
    for (const k of [h.key, key]) {
      expect(stored).not.toContain(k);
      expect(stored).not.toContain(secretOf(k));
    }
  });

  it('never appear in the logs, used well, used badly or mangled', async () => {
    lines.length = 0;
    const secret = secretOf(h.key);
    const mangled = [
      h.key,
      `${h.key}x`,
      h.key.slice(0, -1),
      h.key.toUpperCase(),
      `${h.key} ${h.key}`,
      secret,
      `cvr_00000000_${secret}`,
      `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(`{"sub":"${h.key}"}`).toString('base64url')}.${secret}`,
      `${secret}.${secret}.${secret}`,
    ];
    const operations = (await operationsOf(h.app)).filter((o) => o.auth !== 'none');
    for (const credential of mangled) {
      for (const op of operations) {
        for (const scheme of ['Bearer ', 'bearer ', 'Basic ', '']) {
          const req = await plausibleRequest(op, randomId(), `${scheme}${credential}`);
          req.headers.set('x-request-id', 'keys-and-logs');
          req.headers.set('idempotency-key', credential.slice(0, 200));
          const res = await h.app.request(req);
          await res.body?.cancel();
        }
      }
      // Also where a careless handler might echo it: the query string and the body.
      await (await h.request('GET', `/v1/jobs?type=${encodeURIComponent(credential)}`)).body?.cancel();
    }
    expect(lines.length).toBeGreaterThan(100);
    const text = lines.join('');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(ADMIN_TOKEN);
  });
});
