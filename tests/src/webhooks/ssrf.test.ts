import type { JobView, WebhookDeliveryView } from '@conveyor/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';
import { type Receiver, startReceiver } from './receiver';

/**
 * Webhook URLs pass the image fetcher's address policy: with no FETCH_ALLOWLIST a webhook to loopback,
 * private or metadata addresses is refused before any connection, logged once, and not retried.
 */

let h: Harness;
let rx: Receiver;

beforeAll(async () => {
  h = await createHarness();
  rx = await startReceiver();
  await h.startWorker({ webhooks: { allowlist: [], retryBaseMs: 200, maxAttempts: 3, timeoutMs: 2_000 } });
});

afterAll(async () => {
  await h?.close();
  await rx?.close();
});

describe('webhook address policy', () => {
  it('never connects to loopback, private or metadata addresses without an allowlist entry', async () => {
    const urls = [
      rx.url('/local'),
      `http://localhost:${rx.port}/local`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/hook',
      'http://[::1]:9/hook',
    ];
    const jobs: JobView[] = [];
    for (const url of urls) {
      const res = await h.request('POST', '/v1/jobs', { body: { type: 'noop', webhook: { url } } });
      expect(res.status).toBe(202);
      jobs.push((await res.json()) as JobView);
    }
    for (const [i, job] of jobs.entries()) {
      const log = await waitFor(`refusal logged for ${urls[i]}`, async () => {
        const res = await h.request('GET', `/v1/jobs/${job.id}/deliveries`);
        const data = ((await res.json()) as { data: WebhookDeliveryView[] }).data;
        return data.length > 0 && data;
      });
      expect(log[0]).toMatchObject({ outcome: 'failed', responseStatus: null, url: urls[i] });
      expect(log[0]!.error).toMatch(
        /refusing to fetch from .*loopback, private, link-local or reserved address/,
      );
    }
    // Refusals are final: no second attempt is logged, and the receiver never saw a request.
    await new Promise((r) => setTimeout(r, 1_500));
    for (const job of jobs) {
      const res = await h.request('GET', `/v1/jobs/${job.id}/deliveries`);
      expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(1);
    }
    expect(rx.received).toHaveLength(0);
  });
});
