import { completeAttempt, failAttempt, findJob, startAttempt } from '@conveyor/db';
import type { JobStatus, JobView } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../test-support';

/**
 * Cache-Control by what may still change: jobs that can move on and every list are revalidated each time
 * (`no-cache`, with the job's ETag); a finished job may be reused for a short, configured while; an
 * artifact never changes under its id. States a worker would reach are set through its own queries.
 */

const api = useTestApp();
const NO_CACHE = 'private, no-cache';

async function jobIn(state: JobStatus): Promise<JobView> {
  const t = api.tenant;
  const job = await t.submit({ type: 'noop', options: { maxAttempts: 2 } });
  if (state === 'queued') return job;
  if (state === 'canceled') {
    expect((await t.call('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    return job;
  }
  const row = await findJob(api.db, t.tenantId, job.id);
  const started = await startAttempt(api.db, job.id, row!.generation);
  if (started.kind !== 'run') throw new Error(`could not start: ${started.reason}`);
  const { fence } = started.row;
  const error = { code: 'boom', message: 'it broke' };
  if (state === 'retrying')
    await failAttempt(api.db, { id: job.id, fence, error, retryAt: new Date(Date.now() + 60_000) });
  if (state === 'failed') await failAttempt(api.db, { id: job.id, fence, error, retryAt: null });
  if (state === 'succeeded') await completeAttempt(api.db, { id: job.id, fence, result: { ok: true } });
  expect((await findJob(api.db, t.tenantId, job.id))?.status).toBe(state);
  return job;
}

const read = (id: string, headers: Record<string, string> = {}, app = api.app) =>
  api.tenant.call('GET', `/v1/jobs/${id}`, { app, headers });

describe('Cache-Control of GET /v1/jobs/{id}', () => {
  it.each(['queued', 'running', 'retrying'] as const)(
    'is private, no-cache for a %s job, with an ETag to revalidate against',
    async (state) => {
      const job = await jobIn(state);
      const res = await read(job.id);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe(NO_CACHE);
      expect(res.headers.get('etag')).toMatch(/^"/);
    },
  );

  it.each(['succeeded', 'failed', 'canceled'] as const)(
    'is private, max-age=60 for a %s job',
    async (state) => {
      const job = await jobIn(state);
      const res = await read(job.id);
      expect(res.status).toBe(200);
      expect(((await res.json()) as JobView).status).toBe(state);
      expect(res.headers.get('cache-control')).toBe('private, max-age=60');
      expect(res.headers.get('etag')).toMatch(/^"/);
    },
  );

  it('sends the same Cache-Control on a 304 as on the 200 it confirms', async () => {
    for (const [state, expected] of [
      ['queued', NO_CACHE],
      ['succeeded', 'private, max-age=60'],
    ] as const) {
      const job = await jobIn(state);
      const etag = (await read(job.id)).headers.get('etag')!;
      const res = await read(job.id, { 'if-none-match': etag });
      expect(res.status).toBe(304);
      expect(res.headers.get('cache-control')).toBe(expected);
    }
  });

  it('follows TERMINAL_JOB_MAX_AGE_S, and 0 makes a finished job no-cache like a live one', async () => {
    const job = await jobIn('succeeded');
    const longer = await read(job.id, {}, api.build({ terminalJobMaxAgeS: 300 }));
    expect(longer.headers.get('cache-control')).toBe('private, max-age=300');
    const none = await read(job.id, {}, api.build({ terminalJobMaxAgeS: 0 }));
    expect(none.headers.get('cache-control')).toBe(NO_CACHE);
  });

  it('goes back to no-cache once a failed job is retried; the retry answer names the job in Content-Location', async () => {
    const job = await jobIn('failed');
    expect((await read(job.id)).headers.get('cache-control')).toBe('private, max-age=60');
    const retry = await api.tenant.call('POST', `/v1/jobs/${job.id}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('content-location')).toBe(`/v1/jobs/${job.id}`);
    expect(((await retry.json()) as JobView).status).toBe('queued');
    const res = await read(job.id);
    expect(((await res.json()) as JobView).status).toBe('queued');
    expect(res.headers.get('cache-control')).toBe(NO_CACHE);
  });
});

describe('Cache-Control of lists and artifacts', () => {
  it('is private, no-cache on GET /v1/jobs, the events timeline and the artifact list', async () => {
    const job = await jobIn('succeeded');
    for (const path of ['/v1/jobs', `/v1/jobs/${job.id}/events`, `/v1/jobs/${job.id}/artifacts`]) {
      const res = await api.tenant.call('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe(NO_CACHE);
    }
  });

  it('is private, immutable for a year on an artifact, with its ETag', async () => {
    const t = api.tenant;
    const { row } = await api.newArtifact(t, {
      content: Buffer.from('a,b\n1,2\n'),
      name: 'r.csv',
      contentType: 'text/csv',
    });
    const res = await t.call('GET', `/v1/artifacts/${row.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(res.headers.get('etag')).toBe(`"${row.sha256}"`);
    const again = await t.call('GET', `/v1/artifacts/${row.id}`, {
      headers: { 'if-none-match': `"${row.sha256}"` },
    });
    expect(again.status).toBe(304);
  });
});
