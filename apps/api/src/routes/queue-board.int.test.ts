import { queueNames } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../test-support';
import { BOARD_CSP } from './queue-board';

/** Bull Board at /admin/queues, behind ADMIN_TOKEN (Bearer or Basic password). */

const ADMIN_TOKEN = 'admin-token-for-board-0123';
const api = useTestApp({ adminToken: ADMIN_TOKEN });

const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const basic = (password: string) => ({
  authorization: `Basic ${Buffer.from(`someone:${password}`).toString('base64')}`,
});

describe('Bull Board', () => {
  it('does not exist without ADMIN_TOKEN', async () => {
    const closed = api.build({ adminToken: undefined });
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/api/queues']) {
      const res = await closed.request(path, { headers: bearer });
      expect(res.status, path).toBe(404);
    }
  });

  it('answers 401 with a Basic challenge without the token or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, basic('wrong')]) {
      const res = await api.app.request('/admin/queues', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="Conveyor admin"/);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.text()).not.toContain('<html');
    }
  });

  it('leaves the admin API on Bearer only: a Basic password is refused there without a Basic challenge', async () => {
    const res = await api.app.request('/v1/admin/tenants', {
      method: 'POST',
      headers: { ...basic(ADMIN_TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('serves the page with its own CSP to the Bearer token and to a browser sending it as Basic password', async () => {
    for (const path of ['/admin/queues', '/admin/queues/']) {
      for (const headers of [bearer, basic(ADMIN_TOKEN)]) {
        const res = await api.app.request(path, { headers });
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/html');
        expect(res.headers.get('content-security-policy')).toBe(BOARD_CSP);
        const html = await res.text();
        expect(html).toContain('<base href="/admin/queues/"');
        expect(html).toContain('<div id="root">');
      }
    }
  });

  it("serves the UI's static files behind the token", async () => {
    const html = await (await api.app.request('/admin/queues', { headers: bearer })).text();
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const res = await api.app.request(`/admin/queues/${script}`, { headers: bearer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect((await api.app.request(`/admin/queues/${script}`)).status).toBe(401);
  });

  it('lists every queue of the catalog in its API, with the jobs BullMQ holds', async () => {
    const t = await api.newTenant();
    await t.submit({ type: 'noop', payload: {} });
    const res = await api.app.request('/admin/queues/api/queues', { headers: bearer });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual([...queueNames].sort());
    const defaultQueue = body.queues.find((q) => q.name === 'default');
    expect(Object.values(defaultQueue?.counts ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});
