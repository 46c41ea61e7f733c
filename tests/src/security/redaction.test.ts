import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness';

/**
 * Fields a kind marks sensitive (email.send's `text` and `html`) and secret-looking keys anywhere in a
 * payload never reach a log line of the API or the worker, while the rest of the payload does where it helps
 * (the worker's "job failed" line). The whole system runs in this process, logging at trace into `lines`.
 */

const lines: string[] = [];
let h: Harness;

beforeAll(async () => {
  h = await createHarness({ logDestination: { write: (line: string) => void lines.push(line) } });
  await h.startWorker();
});

afterAll(async () => {
  await h?.close();
});

const failedLineOf = (jobId: string) =>
  lines
    .map((l) => JSON.parse(l) as { jobId?: string; msg?: string; payload?: Record<string, unknown> })
    .find((l) => l.jobId === jobId && l.msg === 'job failed');

describe('sensitive payload fields in logs', () => {
  it('an email’s body never appears, its other fields do', async () => {
    const body = `reset link https://example.com/reset/${randomUUID()}`;
    const subject = `Subject ${randomUUID()}`;
    // The SMTP server in the harness settings does not exist, so with one attempt the job ends failed.
    const { res, job } = await h.submit({
      type: 'email.send',
      payload: { to: 'ann@example.com', subject, text: body, html: `<p>${body}</p>` },
      options: { maxAttempts: 1 },
    });
    expect(res.status).toBe(202);
    await h.waitForStatus(job.id, ['failed'], 30_000);
    // The API still answers the payload to its tenant: redaction is for logs.
    expect((await h.getJob(job.id)).payload).toMatchObject({ text: body });

    const failed = failedLineOf(job.id);
    expect(failed?.payload).toEqual({
      to: 'ann@example.com',
      subject,
      text: '[redacted]',
      html: '[redacted]',
    });
    const text = lines.join('');
    expect(text).toContain(subject);
    expect(text).not.toContain(body.slice(-36));
  });

  it('secret-looking keys are redacted at any depth, in any kind', async () => {
    const password = `pw-${randomUUID()}`;
    const apiKey = `key-${randomUUID()}`;
    const marker = `visible-${randomUUID()}`;
    const { job } = await h.submit({
      type: 'noop',
      payload: { fail: 'unrecoverable', echo: { marker, login: { password, apiKey } } },
    });
    await h.waitForStatus(job.id, ['failed'], 30_000);
    expect(failedLineOf(job.id)?.payload).toEqual({
      fail: 'unrecoverable',
      echo: { marker, login: { password: '[redacted]', apiKey: '[redacted]' } },
    });
    // Also through the API's paths that fail: a body it refuses, and a batch.
    await (
      await h.request('POST', '/v1/jobs', { body: { type: 'noop', payload: { password, bad: 1 } } })
    ).body?.cancel();
    await (
      await h.request('POST', '/v1/jobs/batch', {
        body: { jobs: [{ type: 'noop', payload: { echo: { token: password } } }] },
      })
    ).body?.cancel();
    const text = lines.join('');
    expect(text).toContain(marker);
    expect(text).not.toContain(password);
    expect(text).not.toContain(apiKey);
  });
});
