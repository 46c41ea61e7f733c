import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';
import type { AppProcess } from '../helpers/processes';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink';
import { linesFor, startWorkerProcess } from '../helpers/worker-process';

/**
 * One worker process per queue, as docker-compose.yml and deploy/k8s run them: a process started with
 * `WORKER_QUEUES=emails` takes only email jobs, one with `WORKER_QUEUES=default` only noop jobs, and a
 * queue nobody serves keeps its jobs queued until a process for it starts.
 */
describe('workers split by queue (WORKER_QUEUES)', () => {
  let h: Harness;
  let sink: SmtpSink;
  const procs: AppProcess[] = [];

  beforeAll(async () => {
    h = await createHarness();
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => p.kill()));
    await sink?.close();
    await h?.close();
  });

  const email = (i: number) => ({
    type: 'email.send',
    payload: { to: `user${i}@example.com`, subject: `split ${i}`, text: 'hello' },
  });

  it('an emails-only and a default-only process each run only their own queue', async () => {
    const emails = await startWorkerProcess(h, 'worker-emails', {
      WORKER_QUEUES: 'emails',
      WORKER_CONCURRENCY_EMAILS: '3',
      SMTP_URL: sink.url,
    });
    procs.push(emails);
    expect(emails.lines.find((l) => l.includes('"worker started"'))).toContain('"queues":["emails"]');

    const noopIds: string[] = [];
    const emailIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const n = await h.submit({ type: 'noop', payload: { echo: i } });
      expect(n.res.status).toBe(202);
      expect(n.job.queue).toBe('default');
      noopIds.push(n.job.id);
      const e = await h.submit(email(i));
      expect(e.res.status).toBe(202);
      expect(e.job.queue).toBe('emails');
      emailIds.push(e.job.id);
    }

    // Only the emails worker runs: every email finishes, while no noop job leaves `queued`.
    for (const id of emailIds)
      expect((await h.waitForStatus(id, ['succeeded'], 60_000)).status).toBe('succeeded');
    for (const id of noopIds) expect((await h.getJob(id)).status).toBe('queued');
    expect(sink.messages).toHaveLength(emailIds.length);

    const fallback = await startWorkerProcess(h, 'worker-default', {
      WORKER_QUEUES: 'default',
      // An SMTP port nothing listens on: if this process took an email job, the job would fail here.
      SMTP_URL: 'smtp://127.0.0.1:1?ignoreTLS=true',
    });
    procs.push(fallback);
    expect(fallback.lines.find((l) => l.includes('"worker started"'))).toContain('"queues":["default"]');

    // More of both kinds while both run side by side.
    for (let i = 6; i < 12; i++) {
      noopIds.push((await h.submit({ type: 'noop', payload: { echo: i } })).job.id);
      emailIds.push((await h.submit(email(i))).job.id);
    }
    for (const id of [...noopIds, ...emailIds]) {
      expect((await h.waitForStatus(id, ['succeeded', 'failed'], 60_000)).status, id).toBe('succeeded');
    }

    // Who ran what, from each process's own log: every job exactly once, by the process of its queue.
    for (const id of noopIds) {
      expect(linesFor(fallback, id, '"job started"'), id).toHaveLength(1);
      expect(linesFor(emails, id, '"job started"'), id).toHaveLength(0);
    }
    for (const id of emailIds) {
      expect(linesFor(emails, id, '"job started"'), id).toHaveLength(1);
      expect(linesFor(fallback, id, '"job started"'), id).toHaveLength(0);
    }
    expect(sink.messages).toHaveLength(emailIds.length);

    // The fleet view reports each process under its own queue only.
    const res = await h.request('GET', '/v1/queues');
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { name: string; workers: { pid: number }[] }[] };
    const pids = (queue: string) => data.find((q) => q.name === queue)?.workers.map((w) => w.pid) ?? [];
    expect(pids('emails')).toEqual([emails.pid]);
    expect(pids('default')).toEqual([fallback.pid]);
    expect(pids('images')).toEqual([]);
  });
});
