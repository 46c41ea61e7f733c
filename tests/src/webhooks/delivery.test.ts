import type { JobView, WebhookDeliveryView, WebhookSettingsView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';
import { type Received, type Receiver, startReceiver, verifies } from './receiver';

/**
 * Webhooks end to end: the real API and a real worker deliver to a local receiver, which checks every
 * signature with its own implementation of the Standard Webhooks scheme.
 */

let h: Harness;
let rx: Receiver;

beforeAll(async () => {
  h = await createHarness();
  rx = await startReceiver();
  await h.startWorker({
    webhooks: {
      allowlist: ['127.0.0.1'],
      retryBaseMs: 300,
      retryMaxMs: 1_000,
      maxAttempts: 4,
      timeoutMs: 3_000,
    },
  });
});

afterAll(async () => {
  await h?.close();
  await rx?.close();
});

const asTenant = async () => {
  const t = await h.newTenant();
  return {
    ...t,
    call: (method: string, path: string, body?: unknown) =>
      h.request(method, path, { key: t.key, ...(body === undefined ? {} : { body }) }),
  };
};
type Tenant = Awaited<ReturnType<typeof asTenant>>;

const settingsOf = async (t: Tenant) =>
  (await (await t.call('GET', '/v1/webhook-settings')).json()) as WebhookSettingsView;
const submit = async (t: Tenant, body: unknown) => {
  const res = await t.call('POST', '/v1/jobs', body);
  expect(res.status).toBe(202);
  return (await res.json()) as JobView;
};
const deliveriesOf = async (t: Tenant, id: string) =>
  ((await (await t.call('GET', `/v1/jobs/${id}/deliveries`)).json()) as { data: WebhookDeliveryView[] }).data;
const bodyOf = (r: Received) => JSON.parse(r.body) as { type: string; timestamp: string; data: JobView };
const forJob = (path: string, id: string) => rx.at(path).filter((r) => bodyOf(r).data.id === id);
const waitForRequests = (path: string, id: string, count = 1, timeoutMs = 20_000) =>
  waitFor(
    `${count} request(s) for ${id} at ${path}`,
    () => forJob(path, id).length >= count && forJob(path, id),
    timeoutMs,
  );

describe('webhook delivery', () => {
  it('delivers a job.succeeded message to the job’s own url, signed with the tenant secret', async () => {
    const t = await asTenant();
    const { secret } = await settingsOf(t);
    expect(secret).toMatch(/^whsec_/);
    const job = await submit(t, { type: 'noop', payload: { echo: 1 }, webhook: { url: rx.url('/own') } });
    const [request] = await waitForRequests('/own', job.id);
    expect(verifies(request!, secret)).toBe(true);
    expect(request!.headers['webhook-id']).toBe(`msg_${job.id}_0_succeeded`);
    expect(Number(request!.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(request!.headers['content-type']).toBe('application/json');
    const body = bodyOf(request!);
    expect(body.type).toBe('job.succeeded');
    expect(body.data).toMatchObject({ id: job.id, status: 'succeeded', webhook: { url: rx.url('/own') } });
    expect(body.timestamp).toBe(body.data.finishedAt);
    const log = await waitFor('delivery logged', async () => {
      const d = await deliveriesOf(t, job.id);
      return d.length === 1 && d;
    });
    expect(log[0]).toMatchObject({
      messageId: `msg_${job.id}_0_succeeded`,
      event: 'job.succeeded',
      url: rx.url('/own'),
      attempt: 1,
      outcome: 'delivered',
      responseStatus: 200,
      error: null,
    });
    // A signature made with another secret does not verify: the check above can fail.
    expect(verifies(request!, `whsec_${Buffer.alloc(32, 1).toString('base64')}`)).toBe(false);
  });

  it('delivers job.failed and job.canceled to the tenant default endpoint', async () => {
    const t = await asTenant();
    const put = await t.call('PUT', '/v1/webhook-settings', { url: rx.url('/default') });
    expect(put.status).toBe(200);
    const { secret, url } = (await put.json()) as WebhookSettingsView;
    expect(url).toBe(rx.url('/default'));
    const failed = await submit(t, { type: 'noop', payload: { fail: 'unrecoverable' } });
    const delayed = await submit(t, { type: 'noop', options: { delay: 60_000 } });
    expect((await t.call('POST', `/v1/jobs/${delayed.id}/cancel`)).status).toBe(202);
    const [f] = await waitForRequests('/default', failed.id);
    const [c] = await waitForRequests('/default', delayed.id);
    expect(bodyOf(f!)).toMatchObject({ type: 'job.failed', data: { status: 'failed', webhook: null } });
    expect(bodyOf(c!)).toMatchObject({ type: 'job.canceled', data: { status: 'canceled' } });
    expect(verifies(f!, secret) && verifies(c!, secret)).toBe(true);
  });

  it('signs with both secrets during a rotation, so either one verifies', async () => {
    const t = await asTenant();
    const before = await settingsOf(t);
    const rotated = await t.call('POST', '/v1/webhook-settings/rotate-secret');
    expect(rotated.status).toBe(200);
    const after = (await rotated.json()) as WebhookSettingsView;
    expect(after.secret).not.toBe(before.secret);
    const expiresIn = Date.parse(after.previousSecretExpiresAt!) - Date.now();
    expect(expiresIn).toBeGreaterThan(23 * 3_600_000);
    expect(expiresIn).toBeLessThanOrEqual(24 * 3_600_000);
    const job = await submit(t, { type: 'noop', webhook: { url: rx.url('/rotate') } });
    const [request] = await waitForRequests('/rotate', job.id);
    expect(String(request!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(request!, before.secret)).toBe(true);
    expect(verifies(request!, after.secret)).toBe(true);
  });

  it('retries after a 500 with the same message id and logs every attempt', async () => {
    const t = await asTenant();
    const { secret } = await settingsOf(t);
    rx.answer('/flaky', 500, 200);
    const job = await submit(t, { type: 'noop', webhook: { url: rx.url('/flaky') } });
    const requests = await waitForRequests('/flaky', job.id, 2);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([
      `msg_${job.id}_0_succeeded`,
      `msg_${job.id}_0_succeeded`,
    ]);
    expect(requests.every((r) => verifies(r, secret))).toBe(true);
    const log = await waitFor('two attempts logged', async () => {
      const d = await deliveriesOf(t, job.id);
      return d.length === 2 && d;
    });
    expect(log.map((d) => [d.attempt, d.outcome, d.responseStatus])).toEqual([
      [1, 'failed', 500],
      [2, 'delivered', 200],
    ]);
    expect(log[0]!.error).toBe('answered 500');
  });

  it('gives up after the attempt budget when the endpoint keeps failing', async () => {
    const t = await asTenant();
    rx.answer('/down', 503);
    const job = await submit(t, { type: 'noop', webhook: { url: rx.url('/down') } });
    await waitForRequests('/down', job.id, 4);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(forJob('/down', job.id)).toHaveLength(4);
    const log = await deliveriesOf(t, job.id);
    expect(log.map((d) => d.outcome)).toEqual(['failed', 'failed', 'failed', 'failed']);
  });

  it('disables an endpoint that answers 410 Gone, sends it nothing more, and re-enables it when set again', async () => {
    const t = await asTenant();
    rx.answer('/gone', 410);
    await t.call('PUT', '/v1/webhook-settings', { url: rx.url('/gone') });
    const first = await submit(t, { type: 'noop' });
    await waitForRequests('/gone', first.id);
    const settings = await waitFor('endpoint disabled', async () => {
      const s = await settingsOf(t);
      return s.disabledEndpoints.length === 1 && s;
    });
    expect(settings.disabledEndpoints[0]).toMatchObject({
      url: rx.url('/gone'),
      reason: 'answered 410 Gone',
    });
    expect((await deliveriesOf(t, first.id)).map((d) => [d.outcome, d.responseStatus])).toEqual([
      ['disabled', 410],
    ]);

    const second = await submit(t, { type: 'noop' });
    const log = await waitFor('second job logged as disabled', async () => {
      const d = await deliveriesOf(t, second.id);
      return d.length === 1 && d;
    });
    expect(log[0]).toMatchObject({ outcome: 'disabled', responseStatus: null });
    expect(forJob('/gone', second.id)).toHaveLength(0);

    rx.answer('/gone', 200);
    const put = (await (
      await t.call('PUT', '/v1/webhook-settings', { url: rx.url('/gone') })
    ).json()) as WebhookSettingsView;
    expect(put.disabledEndpoints).toEqual([]);
    const third = await submit(t, { type: 'noop' });
    await waitForRequests('/gone', third.id);
  });

  it('delivers a message whose enqueue was missed, through the recovery scan', async () => {
    // The job finishes while the tenant has no endpoint, so nothing is enqueued at that moment; the
    // endpoint is set before the scan reaches the job's terminal event (grace 1 s), as if the enqueue had
    // been lost to a Redis outage. The scan sees a terminal job with an endpoint and no delivery.
    const t = await asTenant();
    const job = await submit(t, { type: 'noop' });
    await waitFor('job succeeded', async () => {
      const view = (await (await t.call('GET', `/v1/jobs/${job.id}`)).json()) as JobView;
      return view.status === 'succeeded';
    });
    await t.call('PUT', '/v1/webhook-settings', { url: rx.url('/recovered') });
    const [request] = await waitForRequests('/recovered', job.id);
    expect(verifies(request!, (await settingsOf(t)).secret)).toBe(true);
  });

  it('answers another tenant’s delivery log exactly like a random id’s, and keeps settings per tenant', async () => {
    const owner = await asTenant();
    const other = await asTenant();
    const job = await submit(owner, { type: 'noop', webhook: { url: rx.url('/iso') } });
    await waitForRequests('/iso', job.id);
    const theirs = await other.call('GET', `/v1/jobs/${job.id}/deliveries`);
    const random = await other.call('GET', '/v1/jobs/0190a0a0-0000-7000-8000-000000000000/deliveries');
    expect(theirs.status).toBe(404);
    const strip = (p: Record<string, unknown>) => ({ ...p, requestId: undefined, instance: undefined });
    expect(strip((await theirs.json()) as Record<string, unknown>)).toEqual(
      strip((await random.json()) as Record<string, unknown>),
    );
    expect((await settingsOf(owner)).secret).not.toBe((await settingsOf(other)).secret);
  });

  it('takes jobs:write for the settings and jobs:read for the delivery log', async () => {
    const reader = await h.newTenant(['jobs:read']);
    const get = await h.request('GET', '/v1/webhook-settings', { key: reader.key });
    expect(get.status).toBe(403);
    const rotate = await h.request('POST', '/v1/webhook-settings/rotate-secret', { key: reader.key });
    expect(rotate.status).toBe(403);
    const list = await h.request('GET', '/v1/jobs/0190a0a0-0000-7000-8000-000000000000/deliveries', {
      key: reader.key,
    });
    expect(list.status).toBe(404);
  });

  it('rejects a bad default endpoint with 422 naming url', async () => {
    const t = await asTenant();
    for (const url of ['gopher://x', 'https://u:p@example.com', 'nope', 7]) {
      const res = await t.call('PUT', '/v1/webhook-settings', { url });
      expect(res.status, String(url)).toBe(422);
      expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual([
        'url',
      ]);
    }
    const cleared = await t.call('PUT', '/v1/webhook-settings', { url: null });
    expect(((await cleared.json()) as WebhookSettingsView).url).toBeNull();
  });

  it('measures the delay from finishedAt to a verified delivery over 100 noop jobs', async () => {
    const t = await asTenant();
    const { secret } = (await (
      await t.call('PUT', '/v1/webhook-settings', { url: rx.url('/bulk') })
    ).json()) as WebhookSettingsView;
    const res = await t.call('POST', '/v1/jobs/batch', {
      jobs: Array.from({ length: 100 }, () => ({ type: 'noop' })),
    });
    expect(res.status).toBe(202);
    const ids = ((await res.json()) as { data: JobView[] }).data.map((j) => j.id);
    await waitFor('100 deliveries', () => rx.at('/bulk').length >= 100, 60_000);
    const delays = rx.at('/bulk').map((r) => {
      expect(verifies(r, secret)).toBe(true);
      const body = bodyOf(r);
      expect(ids).toContain(body.data.id);
      return r.at - Date.parse(body.data.finishedAt!);
    });
    delays.sort((a, b) => a - b);
    const median = (delays[49]! + delays[50]!) / 2;
    console.log(
      `webhook delay finishedAt → verified delivery over 100 noop jobs: median ${median} ms, p90 ${delays[89]} ms, max ${delays[99]} ms`,
    );
    expect(new Set(rx.at('/bulk').map((r) => bodyOf(r).data.id)).size).toBe(100);
  });
});
