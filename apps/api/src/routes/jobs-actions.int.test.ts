import { completeAttempt, failAttempt, findJob, listJobEvents, startAttempt } from '@conveyor/db';
import { cancelChannel, createRedis } from '@conveyor/queue';
import type { JobView, Problem } from '@conveyor/shared';
import { describe, expect, it, vi } from 'vitest';
import { useTestApp } from '../test-support';

/**
 * POST /v1/jobs/{id}/cancel and /retry. There is no worker here: states a worker would reach are set
 * through the worker's own queries (startAttempt, failAttempt, completeAttempt).
 */

const api = useTestApp();
const post = (path: string, body?: unknown) => api.tenant.call('POST', path, { body });
const submit = (body?: unknown) => api.tenant.submit(body);

/** What a worker does when it picks the job up. */
async function start(id: string): Promise<number> {
  const row = await findJob(api.db, api.tenant.tenantId, id);
  const outcome = await startAttempt(api.db, id, row!.generation);
  if (outcome.kind !== 'run') throw new Error(`could not start ${id}: ${outcome.reason}`);
  return outcome.row.fence;
}

type State = 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'canceled';

/** A job in `state`, reached along the worker's (or the API's) real path. */
async function jobIn(state: State): Promise<JobView> {
  const job = await submit({ type: 'noop', options: { maxAttempts: 2 } });
  const error = { code: 'boom', message: 'it broke' };
  if (state === 'queued') return job;
  if (state === 'canceled') {
    expect((await post(`/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    return job;
  }
  const fence = await start(job.id);
  if (state === 'retrying')
    await failAttempt(api.db, { id: job.id, fence, error, retryAt: new Date(Date.now() + 60_000) });
  if (state === 'failed') await failAttempt(api.db, { id: job.id, fence, error, retryAt: null });
  if (state === 'succeeded') await completeAttempt(api.db, { id: job.id, fence, result: { ok: true } });
  expect((await findJob(api.db, api.tenant.tenantId, job.id))?.status).toBe(state);
  return job;
}

const eventTypes = async (id: string) =>
  (await listJobEvents(api.db, api.tenant.tenantId, id)).map((e) => e.type);

async function expectInvalidState(res: Response) {
  expect(res.status).toBe(409);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(((await res.json()) as Problem).code).toBe('invalid_state');
}

describe('POST /v1/jobs/{id}/cancel', () => {
  it('cancels a queued job at once (202, status canceled) and removes it from BullMQ', async () => {
    const job = await submit();
    expect(await api.producer.snapshot('default', job.id)).not.toBeNull();
    const res = await post(`/v1/jobs/${job.id}/cancel`);
    expect(res.status).toBe(202);
    const body = (await res.json()) as JobView;
    expect(body).toMatchObject({ id: job.id, status: 'canceled' });
    expect(body.finishedAt).not.toBeNull();
    expect(await api.producer.snapshot('default', job.id)).toBeNull();
    expect((await findJob(api.db, api.tenant.tenantId, job.id))?.status).toBe('canceled');
    expect(await eventTypes(job.id)).toEqual(['queued', 'canceled']);
  });

  it('cancels a retrying job at once and removes it from BullMQ', async () => {
    const job = await jobIn('retrying');
    const res = await post(`/v1/jobs/${job.id}/cancel`);
    expect(res.status).toBe(202);
    expect(((await res.json()) as JobView).status).toBe('canceled');
    expect(await api.producer.snapshot('default', job.id)).toBeNull();
  });

  it('answers 409 invalid_state when the job is canceled again', async () => {
    const job = await submit();
    expect((await post(`/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    await expectInvalidState(await post(`/v1/jobs/${job.id}/cancel`));
    expect(await eventTypes(job.id)).toEqual(['queued', 'canceled']);
  });

  it.each(['succeeded', 'failed'] as const)(
    'answers 409 invalid_state for a %s job and leaves it be',
    async (s) => {
      const job = await jobIn(s);
      await expectInvalidState(await post(`/v1/jobs/${job.id}/cancel`));
      expect((await findJob(api.db, api.tenant.tenantId, job.id))?.status).toBe(s);
    },
  );

  it('asks a running job to stop: 202, still running, a cancel_requested event, and a message to workers', async () => {
    const job = await jobIn('running');
    // The shared test Redis (test-support's), on a connection of its own as a worker's listener would have.
    const subscriber = createRedis('redis://127.0.0.1:6379', 'subscriber', 'cvt-cancel-probe');
    try {
      await vi.waitUntil(() => subscriber.status === 'ready', { timeout: 5_000 });
      const messages: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => messages.push(message));
      await subscriber.subscribe(cancelChannel(api.prefix));

      const res = await post(`/v1/jobs/${job.id}/cancel`);
      expect(res.status).toBe(202);
      const body = (await res.json()) as JobView;
      expect(body).toMatchObject({ id: job.id, status: 'running', attempts: 1 });
      expect(await eventTypes(job.id)).toEqual(['queued', 'running', 'cancel_requested']);
      const row = await findJob(api.db, api.tenant.tenantId, job.id);
      expect(row?.cancelRequestedAt).not.toBeNull();
      await vi.waitUntil(() => messages.includes(job.id), { timeout: 2_000 });
      // The worker owns the BullMQ job while it runs: the API leaves it in place.
      expect(await api.producer.snapshot('default', job.id)).not.toBeNull();
    } finally {
      subscriber.disconnect();
    }
  });

  it('answers 202 again when a running job is asked to stop twice, recording the request once', async () => {
    const job = await jobIn('running');
    expect((await post(`/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    const again = await post(`/v1/jobs/${job.id}/cancel`);
    expect(again.status).toBe(202);
    expect(((await again.json()) as JobView).status).toBe('running');
    expect(await eventTypes(job.id)).toEqual(['queued', 'running', 'cancel_requested']);
  });
});

describe('POST /v1/jobs/{id}/retry', () => {
  it.each(['queued', 'running', 'retrying', 'succeeded'] as const)(
    'answers 409 invalid_state for a %s job and changes nothing',
    async (s) => {
      const job = await jobIn(s);
      const before = await findJob(api.db, api.tenant.tenantId, job.id);
      await expectInvalidState(await post(`/v1/jobs/${job.id}/retry`));
      expect(await findJob(api.db, api.tenant.tenantId, job.id)).toEqual(before);
    },
  );

  it('queues a failed job again with a fresh attempt budget and enqueues its new generation', async () => {
    const job = await jobIn('failed');
    expect(await api.producer.snapshot('default', job.id)).toMatchObject({ generation: 0 });
    const before = Date.now();
    const res = await post(`/v1/jobs/${job.id}/retry`);
    expect(res.status).toBe(202);
    const body = (await res.json()) as JobView;
    expect(body).toMatchObject({
      id: job.id,
      status: 'queued',
      attempts: 0,
      maxAttempts: 2,
      progress: 0,
      result: null,
      error: null,
      startedAt: null,
      finishedAt: null,
    });
    expect(new Date(body.runAt).getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(await api.producer.snapshot('default', job.id)).toMatchObject({ generation: 1, state: 'pending' });
    expect(await eventTypes(job.id)).toEqual(['queued', 'running', 'failed', 'queued']);
    // The new life can start: a worker of generation 1 gets to run it.
    expect((await startAttempt(api.db, job.id, 1)).kind).toBe('run');
  });

  it('enqueues a retried job even when BullMQ no longer holds it', async () => {
    const job = await jobIn('failed');
    await api.producer.remove('default', job.id);
    expect(await api.producer.snapshot('default', job.id)).toBeNull();
    expect((await post(`/v1/jobs/${job.id}/retry`)).status).toBe(202);
    expect(await api.producer.snapshot('default', job.id)).toMatchObject({ generation: 1 });
  });

  it('queues a canceled job again and enqueues it', async () => {
    const job = await jobIn('canceled');
    expect(await api.producer.snapshot('default', job.id)).toBeNull();
    const res = await post(`/v1/jobs/${job.id}/retry`);
    expect(res.status).toBe(202);
    expect(((await res.json()) as JobView).status).toBe('queued');
    expect(await api.producer.snapshot('default', job.id)).toMatchObject({ generation: 1 });
  });

  it('answers 409 when a retried job is retried again before it fails', async () => {
    const job = await jobIn('failed');
    expect((await post(`/v1/jobs/${job.id}/retry`)).status).toBe(202);
    await expectInvalidState(await post(`/v1/jobs/${job.id}/retry`));
  });
});
