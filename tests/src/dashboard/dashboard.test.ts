import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/env';
import { createHarness, type Harness } from '../helpers/harness';
import { waitFor } from '../helpers/wait';

/**
 * The dashboard (GET /dashboard) driven in headless Chromium against the whole system in this process: the
 * real API app served over HTTP and a real worker. Sign in with a tenant key, search, open a failed job, see
 * its timeline and error, retry it, cancel a delayed job, and save a screenshot.
 */

/** Debian's package; CI (.ci/run) installs it when missing. Never a browser downloaded by Playwright. */
const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshot goes; tests/artifacts/ is gitignored. */
const SCREENSHOT = join(REPO_ROOT, 'tests/artifacts/dashboard.png');

let h: Harness;
let server: ReturnType<typeof serve>;
let base: string;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
/** Console errors and failed requests: a CSP violation or a script error shows up here. */
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install Debian's package (apt-get install -y chromium); .ci/run does this in CI`,
    );
  h = await createHarness();
  await h.startWorker();
  server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  userDataDir = mkdtempSync(join(tmpdir(), 'cvt-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  // Failed loads are checked by URL below (the console only says "Failed to load resource").
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400)
      problems.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await h?.close();
});

const statusShown = async () => (await page.locator('#d-status').textContent())?.trim();
const rowIds = async () =>
  page.locator('#jobs-body tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));

async function search(filters: { ids?: string; status?: string; type?: string }) {
  await page.getByLabel('Job id(s)').fill(filters.ids ?? '');
  await page.getByLabel('Status').selectOption(filters.status ?? '');
  await page.getByLabel('Type').selectOption(filters.type ?? '');
  const answered = page.waitForResponse((r) => r.url().includes('/v1/jobs?'));
  await page.getByRole('button', { name: 'Search' }).click();
  expect((await answered).status()).toBe(200);
  await page.locator('#jobs-section[aria-busy="false"]').waitFor();
}

async function openJob(id: string) {
  await page.getByRole('button', { name: `Open job ${id}` }).click();
  await waitFor(
    `detail of ${id}`,
    async () =>
      (await page.locator('#d-id').textContent()) === id &&
      (await page.locator('#detail').getAttribute('aria-busy')) === 'false',
  );
}

describe('the dashboard in a browser', () => {
  let failedId: string;
  let otherFailedId: string;
  let delayedId: string;

  beforeAll(async () => {
    // Fails after ~1.5 s of running (progress 50 % half-way), with no retry: it ends failed.
    const failing = await h.submit({
      type: 'noop',
      payload: { fail: 'always', sleepMs: 1_500 },
      options: { maxAttempts: 1 },
    });
    // Also failed, but another type: the type filter must leave it out.
    const email = await h.submit({
      type: 'email.send',
      payload: { to: 'x@example.com', subject: 'hi', text: 'hello' },
      options: { maxAttempts: 1 },
    });
    const delayed = await h.submit({ type: 'noop', payload: {}, options: { delay: 600_000 } });
    await h.submit({ type: 'noop', payload: { echo: 'fine' } });
    for (const s of [failing, email, delayed]) expect(s.res.status).toBe(202);
    failedId = failing.job.id;
    otherFailedId = email.job.id;
    delayedId = delayed.job.id;
    await h.waitForStatus(failedId, ['failed'], 30_000);
    await h.waitForStatus(otherFailedId, ['failed'], 30_000);
  });

  it('serves the page and signs in with an API key', async () => {
    const res = await page.goto(`${base}/dashboard`);
    expect(res?.status()).toBe(200);
    expect(await page.locator('#app').isHidden()).toBe(true);
    // A wrong key is refused with a message, and the page stays signed out.
    await page.getByLabel('API key').fill('cvr_00000000_not-a-real-key-not-a-real-key-00');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitFor('sign-in refusal', async () =>
      /rejected|failed/i.test((await page.locator('#signin-error').textContent()) ?? ''),
    );
    expect(await page.locator('#app').isHidden()).toBe(true);

    await page.getByLabel('API key').fill(h.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#app').waitFor({ state: 'visible' });
    await waitFor('the first page of jobs', async () => (await rowIds()).length === 4);
    // The key is kept for this tab only.
    expect(
      await page.evaluate(() =>
        (
          globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
        ).sessionStorage.getItem('conveyor.dashboard.apiKey'),
      ),
    ).toBe(h.key);
  });

  it('cancels a delayed job with its button', async () => {
    await search({ ids: delayedId });
    expect(await rowIds()).toEqual([delayedId]);
    await openJob(delayedId);
    expect(await statusShown()).toBe('queued');
    expect(await page.getByRole('button', { name: 'Retry' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await waitFor('canceled in the page', async () => (await statusShown()) === 'canceled');
    expect((await h.getJob(delayedId)).status).toBe('canceled');
    expect((await h.events(delayedId)).map((e) => e.type)).toContain('canceled');
    expect(await page.locator('#d-events').textContent()).toContain('canceled');
    // The list row follows the change.
    expect(await page.locator(`#jobs-body tr[data-id="${delayedId}"] .badge`).textContent()).toBe('canceled');
  });

  it('finds the failed job by status and type and shows its error and timeline', async () => {
    await search({ status: 'failed', type: 'noop' });
    const ids = await rowIds();
    expect(ids).toEqual([failedId]);
    expect(ids).not.toContain(otherFailedId);
    await search({ status: 'failed' });
    expect((await rowIds()).sort()).toEqual([failedId, otherFailedId].sort());

    await search({ status: 'failed', type: 'noop' });
    await openJob(failedId);
    expect(await statusShown()).toBe('failed');
    expect(await page.locator('#d-error').textContent()).toBe('noop_failed: noop asked to fail (attempt 1)');
    const timeline = await page.locator('#d-events li strong').allTextContents();
    expect(timeline).toEqual((await h.events(failedId)).map((e) => e.type));
    expect(timeline).toContain('failed');
    expect(await page.locator('#d-payload').textContent()).toContain('"fail": "always"');
    expect(await page.getByRole('button', { name: 'Cancel' }).isDisabled()).toBe(true);
  });

  it('retries it: the page follows it through running to failed again, as the API’s events do', async () => {
    const before = (await h.events(failedId)).length;
    const seen = new Set<string>();
    const watching = waitFor(
      'the retried job to run and fail again in the page',
      async () => {
        const s = await statusShown();
        if (s) seen.add(s);
        return seen.has('failed') && seen.size > 1 && s === 'failed';
      },
      30_000,
      50,
    );
    await page.getByRole('button', { name: 'Retry' }).click();
    await watching;
    // The retry's answer (queued) and then, by polling, running or the end state.
    expect(seen.has('queued') || seen.has('running')).toBe(true);
    const events = (await h.events(failedId)).map((e) => e.type);
    expect(events.length).toBeGreaterThan(before);
    expect(events.filter((t) => t === 'failed')).toHaveLength(2);
    expect(events.slice(events.indexOf('failed') + 1)).toContain('running');
    expect((await h.getJob(failedId)).status).toBe('failed');
    await waitFor('the page timeline to catch up', async () => {
      const shown = await page.locator('#d-events li strong').allTextContents();
      return shown.length === events.length;
    });
    expect(await page.locator('#d-error').textContent()).toBe('noop_failed: noop asked to fail (attempt 1)');
  });

  it('saves a screenshot, with no console error or CSP violation along the way', async () => {
    mkdirSync(join(REPO_ROOT, 'tests/artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    // The one failed request is the sign-in check with the deliberately wrong key.
    expect(problems).toEqual(['401 GET /v1/jobs']);
  });
});
