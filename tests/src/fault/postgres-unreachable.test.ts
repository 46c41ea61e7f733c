import { createDb, type DbHandle } from '@conveyor/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import { startTcpProxy, type TcpProxy, viaProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait';

/**
 * The worker loses Postgres (its connections cut by a proxy) while the API keeps it. Nothing is lost and
 * nothing runs twice: an outcome the worker could not write is settled by the reconciler from BullMQ, and
 * a job that could not start is handed back without spending an attempt.
 */
describe('Postgres unreachable from the worker', () => {
  let h: Harness;
  let proxy: TcpProxy;
  let workerDb: DbHandle;

  beforeAll(async () => {
    h = await createHarness();
    const target = new URL(h.db.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    workerDb = createDb(viaProxy(h.db.url, proxy), { max: 4, connectTimeoutSeconds: 1 });
    await h.startWorker({
      db: workerDb.db,
      dbOutageRetryMs: 500,
      reconcile: { intervalMs: 300, graceMs: 500 },
    });
  });
  afterEach(async () => {
    await proxy.restore().catch(() => undefined);
  });
  afterAll(async () => {
    await h?.close();
    await workerDb?.close();
    await proxy?.close();
  });

  it('records a result finished during the outage once Postgres is back, without running the job again', async () => {
    const { job } = await h.submit({ type: 'noop', payload: { sleepMs: 1_500, echo: 'kept' } });
    await h.waitForStatus(job.id, ['running']);
    await proxy.cut();
    // The handler finishes; the worker cannot record it, so BullMQ holds the result.
    await waitFor(
      'BullMQ to hold the completed job',
      async () => (await h.producer.snapshot('default', job.id))?.state === 'completed',
    );
    expect((await h.row(job.id)).status).toBe('running');

    await proxy.restore();
    const done = await h.waitForStatus(job.id, ['succeeded'], 15_000);
    expect(done.result).toEqual({ sleepMs: 1_500, echo: 'kept' });
    expect(done.attempts).toBe(1);
    expect((await h.events(job.id)).map((e) => e.type)).toEqual(['queued', 'running', 'succeeded']);
  });

  it('hands back a job it cannot start, without spending an attempt, and runs it after the outage', async () => {
    await proxy.cut();
    const { job } = await h.submit({ type: 'noop', payload: {}, options: { maxAttempts: 1 } });
    await waitFor(
      'the worker to hand the job back',
      async () => (await h.producer.snapshot('default', job.id))?.state === 'pending',
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await h.row(job.id)).status).toBe('queued');
    await proxy.restore();
    const done = await h.waitForStatus(job.id, ['succeeded'], 20_000);
    expect(done.attempts).toBe(1);
  });
});
