import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, testHandlerSettings } from '../helpers/harness';
import { type SmtpSink, startSilentServer, startSmtpSink } from '../helpers/smtp-sink';
import { waitFor } from '../helpers/wait';

/**
 * email.send end to end: API → worker → nodemailer → a real SMTP server on 127.0.0.1, asserting on the
 * envelope and the MIME the server received. The server's answers (550, 451) are real SMTP replies.
 */

const emailSettings = (url: string) => ({
  ...testHandlerSettings,
  email: { ...testHandlerSettings.email, url },
});

const sortedLower = (list: string[]) => list.map((a) => a.toLowerCase()).sort();

describe('email.send delivery', () => {
  let h: Harness;
  let sink: SmtpSink;

  beforeAll(async () => {
    h = await createHarness();
    sink = await startSmtpSink();
    await h.startWorker({ handlerSettings: emailSettings(sink.url) });
  });
  afterAll(async () => {
    await h?.close();
    await sink?.close();
  });

  it('delivers to to, cc and bcc recipients, with bcc only in the envelope, and the job id in the Message-ID', async () => {
    sink.rules = {};
    const payload = {
      to: ['Ann Archer <ann@example.com>', { name: 'Bob "the Builder", Jr.', address: 'bob@example.org' }],
      cc: ['"Cho, Carol" <carol@example.net>', 'dan@example.com'],
      bcc: 'eve@example.com',
      from: { name: 'Reports Bot', address: 'reports@conveyor.test' },
      replyTo: 'Help Desk <help@conveyor.test>',
      subject: 'Grüße: your weekly report ✓',
      text: 'Hello,\nthe report is attached — 3 jobs failed.\n',
      html: '<p>Hello,</p><p>the report is attached &mdash; <b>3</b> jobs failed. Grüße</p>',
    };
    const { res, job } = await h.submit({ type: 'email.send', payload });
    expect(res.status).toBe(202);
    expect(job.queue).toBe('emails');
    const done = await h.waitForStatus(job.id, ['succeeded', 'failed']);
    const messageId = `<${job.id}@conveyor.test>`;
    const recipients = [
      'ann@example.com',
      'bob@example.org',
      'carol@example.net',
      'dan@example.com',
      'eve@example.com',
    ];
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    const result = done.result as { messageId: string; accepted: string[]; rejected: string[] };
    expect(result.messageId).toBe(messageId);
    expect(sortedLower(result.accepted)).toEqual(recipients);
    expect(result.rejected).toEqual([]);

    const [message, ...more] = sink.byMessageId(messageId);
    expect(more).toHaveLength(0);
    expect(message!.answered).toBe(250);
    expect(message!.mailFrom).toBe('reports@conveyor.test');
    expect(sortedLower(message!.rcptTo)).toEqual(recipients);

    const mime = message!.mime;
    expect(mime.header('message-id')).toBe(messageId);
    expect(mime.header('from')).toBe('Reports Bot <reports@conveyor.test>');
    expect(mime.header('to')).toBe(
      'Ann Archer <ann@example.com>, "Bob \\"the Builder\\", Jr." <bob@example.org>',
    );
    expect(mime.header('cc')).toBe('"Cho, Carol" <carol@example.net>, dan@example.com');
    expect(mime.header('reply-to')).toBe('Help Desk <help@conveyor.test>');
    expect(mime.header('subject')).toBe(payload.subject);
    expect(mime.header('date')).toBeDefined();
    // Bcc: in the envelope (above), nowhere in the message itself.
    expect(mime.header('bcc')).toBeUndefined();
    expect(message!.raw).not.toContain('eve@example.com');

    expect(mime.type).toBe('multipart/alternative');
    const leaves = mime.leaves();
    expect(leaves.map((p) => p.type)).toEqual(['text/plain', 'text/html']);
    expect(leaves[0]!.body.replace(/\r\n/g, '\n')).toBe(payload.text);
    expect(leaves[1]!.body).toBe(payload.html);
  });

  it("sends from SMTP_FROM when the payload names no sender, and a text-only message isn't multipart", async () => {
    sink.rules = {};
    const { job } = await h.submit({
      type: 'email.send',
      payload: { to: 'solo@example.com', subject: 'Plain', text: 'just text' },
    });
    const done = await h.waitForStatus(job.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    const [message] = sink.byMessageId(`<${job.id}@conveyor.test>`);
    expect(message!.mailFrom).toBe('noreply@conveyor.test');
    expect(message!.rcptTo).toEqual(['solo@example.com']);
    expect(message!.mime.header('from')).toBe('Conveyor Tests <noreply@conveyor.test>');
    expect(message!.mime.header('to')).toBe('solo@example.com');
    expect(message!.mime.type).toBe('text/plain');
    expect(message!.mime.body.trim()).toBe('just text');
  });

  it('lists the recipients the server refused while delivering to the others', async () => {
    sink.rules = { rcpt: (address) => (address.endsWith('@blocked.example') ? 550 : undefined) };
    const { job } = await h.submit({
      type: 'email.send',
      payload: {
        to: ['ok@example.com', 'gone@blocked.example'],
        cc: 'also-ok@example.com',
        subject: 'Partly deliverable',
        text: 'hi',
      },
    });
    const done = await h.waitForStatus(job.id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(done.result).toMatchObject({ rejected: ['gone@blocked.example'] });
    expect(sortedLower((done.result as { accepted: string[] }).accepted)).toEqual([
      'also-ok@example.com',
      'ok@example.com',
    ]);
    const [message] = sink.byMessageId(`<${job.id}@conveyor.test>`);
    expect(sortedLower(message!.rcptTo)).toEqual(['also-ok@example.com', 'ok@example.com']);
  });

  it.each([
    ['RCPT TO', { rcpt: () => 550 }],
    ['DATA', { data: () => 550 }],
  ] as const)('fails at once, without a retry, when the server answers 550 to %s', async (_when, rules) => {
    sink.rules = rules;
    const { job } = await h.submit({
      type: 'email.send',
      payload: { to: 'nobody@example.com', subject: 'Refused', text: 'no' },
      options: { maxAttempts: 5 },
    });
    const done = await h.waitForStatus(job.id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, maxAttempts: 5 });
    expect(done.error?.code).toBe('smtp_rejected');
    expect(done.error?.message).toContain('550');
    const types = (await h.events(job.id)).map((e) => e.type);
    expect(types).toEqual(['queued', 'running', 'failed']);
  });

  it('retries after a 451 and delivers on the next attempt with the same Message-ID', async () => {
    sink.rules = { data: (_message, seen) => (seen === 0 ? 451 : undefined) };
    const { job } = await h.submit({
      type: 'email.send',
      payload: { to: 'later@example.com', subject: 'Greylisted', text: 'second time lucky' },
    });
    const done = await h.waitForStatus(job.id, ['succeeded', 'failed'], 30_000);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    const messageId = `<${job.id}@conveyor.test>`;
    expect(done.result).toMatchObject({ messageId, accepted: ['later@example.com'] });
    const transfers = sink.byMessageId(messageId);
    expect(transfers.map((m) => m.answered)).toEqual([451, 250]);
    expect(transfers.map((m) => m.mime.header('message-id'))).toEqual([messageId, messageId]);
    const events = await h.events(job.id);
    expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'retrying', 'running', 'succeeded']);
    expect(events[2]!.data.error).toMatchObject({ code: 'smtp_temporary' });
  });

  it('aborts a send stuck in DATA when the job is canceled, and the pool carries on', async () => {
    sink.rules = { data: (message) => (message.mime.header('subject') === 'Stuck' ? 'stall' : undefined) };
    const { job } = await h.submit({
      type: 'email.send',
      payload: { to: 'stuck@example.com', subject: 'Stuck', text: 'the server never answers DATA' },
    });
    const messageId = `<${job.id}@conveyor.test>`;
    await waitFor('the stalled DATA', () => sink.byMessageId(messageId).length === 1);
    const closedBefore = sink.closedSessions();
    const canceledAt = Date.now();
    expect((await h.request('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(202);
    const done = await h.waitForStatus(job.id, ['canceled', 'failed', 'succeeded'], 5_000);
    expect(done.status).toBe('canceled');
    // The abort reached nodemailer: it dropped the connection well before the 5 s socket timeout.
    await waitFor('the stalled connection to close', () => sink.closedSessions() > closedBefore, 3_000, 20);
    expect(Date.now() - canceledAt).toBeLessThan(3_000);

    sink.rules = {};
    const next = await h.submit({
      type: 'email.send',
      payload: { to: 'after@example.com', subject: 'After the stall', text: 'still working' },
    });
    expect((await h.waitForStatus(next.job.id, ['succeeded', 'failed'])).status).toBe('succeeded');
  });
});

describe('email.send against a server that never greets', () => {
  let h: Harness;
  let silent: Awaited<ReturnType<typeof startSilentServer>>;

  beforeAll(async () => {
    h = await createHarness();
    silent = await startSilentServer();
    await h.startWorker({
      handlerSettings: {
        ...testHandlerSettings,
        email: { ...testHandlerSettings.email, url: silent.url, greetingTimeoutMs: 300 },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await silent?.close();
  });

  it('times out waiting for the greeting, retries with backoff, and fails after maxAttempts', async () => {
    const { job } = await h.submit({
      type: 'email.send',
      payload: { to: 'someone@example.com', subject: 'Anyone there?', text: '...' },
      options: { maxAttempts: 2 },
    });
    const done = await h.waitForStatus(job.id, ['succeeded', 'failed'], 30_000);
    expect(done).toMatchObject({ status: 'failed', attempts: 2 });
    expect(done.error?.code).toBe('smtp_unavailable');
    expect(done.error?.message).toMatch(/greeting/i);
    const events = await h.events(job.id);
    expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'retrying', 'running', 'failed']);
    expect(events[2]!.data.error).toMatchObject({ code: 'smtp_unavailable' });
    // Each attempt ended at the 300 ms greeting timeout, far below the kind's 120 s attempt timeout.
    const firstAttemptMs = new Date(events[2]!.at).getTime() - new Date(events[1]!.at).getTime();
    expect(firstAttemptMs).toBeLessThan(3_000);
    expect(silent.connections()).toBeGreaterThanOrEqual(2);
  });
});

describe('email.send payload validation at the API', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const valid = { to: 'ann@example.com', subject: 'Hello', text: 'hi' };
  const many = (n: number) => Array.from({ length: n }, (_, i) => `user${i}@example.com`);

  it.each([
    ['CR LF in the subject', { subject: 'Hi\r\nBcc: spy@evil.example' }, 'payload.subject'],
    ['a lone LF in the subject', { subject: 'Hi\nthere' }, 'payload.subject'],
    ['a lone CR in the subject', { subject: 'Hi\rthere' }, 'payload.subject'],
    ['NUL in the subject', { subject: 'Hi\u0000there' }, 'payload.subject'],
    ['an empty subject', { subject: '' }, 'payload.subject'],
    ['CR LF in the sender name', { from: 'Eve\r\nBcc: spy@evil.example <eve@example.com>' }, 'payload.from'],
    [
      'LF in a sender name object',
      { from: { name: 'Eve\nX-Evil: 1', address: 'eve@example.com' } },
      'payload.from.name',
    ],
    [
      'NUL in a sender name object',
      { from: { name: 'Eve\u0000', address: 'eve@example.com' } },
      'payload.from.name',
    ],
    ['CR LF after a bare recipient', { to: 'ann@example.com\r\nBcc: spy@evil.example' }, 'payload.to'],
    ['LF in a recipient name', { to: ['ok@example.com', 'Bob\n <bob@example.com>'] }, 'payload.to.1'],
    [
      'CR in a recipient name object',
      { to: [{ name: 'Bob\r', address: 'bob@example.com' }] },
      'payload.to.0.name',
    ],
    ['LF in a reply-to name', { replyTo: 'Help\nDesk <help@example.com>' }, 'payload.replyTo'],
    ['a malformed to address', { to: 'not-an-address' }, 'payload.to'],
    ['an address without a dotted domain', { to: 'ann@localhost' }, 'payload.to'],
    ['two addresses in one string', { to: 'ann@example.com, bob@example.com' }, 'payload.to'],
    ['a malformed cc in a list', { cc: ['ok@example.com', 'bad@'] }, 'payload.cc.1'],
    [
      'a malformed bcc object address',
      { bcc: [{ address: 'bad address@example.com' }] },
      'payload.bcc.0.address',
    ],
    ['a malformed replyTo', { replyTo: 'help@@example.com' }, 'payload.replyTo'],
    ['an unknown field in an address object', { to: { address: 'ann@example.com', x: 1 } }, 'payload.to.x'],
    ['an empty recipient list', { to: [] }, 'payload.to'],
    ['51 to addresses', { to: many(51) }, 'payload.to'],
    ['more than 100 recipients in all', { to: many(50), cc: many(50), bcc: 'one@example.com' }, 'payload.to'],
    ['neither text nor html', { text: undefined }, 'payload.text'],
    ['an unknown field', { attachments: [] }, 'payload.attachments'],
  ])('answers 422 for %s, at %s, and stores nothing', async (_what, change, path) => {
    // A tenant of its own, so "nothing stored" cannot be spoilt by another case.
    const tenant = await h.newTenant();
    const payload = { ...valid, ...change };
    const res = await h.request('POST', '/v1/jobs', {
      body: { type: 'email.send', payload },
      key: tenant.key,
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as { code: string; errors: { path: string; message: string }[] };
    expect(body.code).toBe('validation_failed');
    expect(body.errors.map((e) => e.path)).toContain(path);
    const list = await h.request('GET', '/v1/jobs', { key: tenant.key });
    expect(((await list.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it('says why a header field was refused', async () => {
    const tenant = await h.newTenant();
    const res = await h.request('POST', '/v1/jobs', {
      body: { type: 'email.send', payload: { ...valid, subject: 'a\r\nb' } },
      key: tenant.key,
    });
    const body = (await res.json()) as { errors: { path: string; message: string }[] };
    expect(body.errors).toContainEqual({
      path: 'payload.subject',
      message: 'must not contain CR, LF or NUL',
    });
  });

  it('accepts one address, a list, "Name <address>" strings and {name, address} objects', async () => {
    const tenant = await h.newTenant();
    const res = await h.request('POST', '/v1/jobs', {
      body: {
        type: 'email.send',
        payload: {
          to: ['"Doe, Jane" <jane@example.com>', { address: 'joe@example.com' }],
          cc: 'Ann <ann@example.com>',
          from: { name: 'Ops', address: 'ops@example.com' },
          subject: 'Accepted',
          html: '<p>ok</p>',
        },
      },
      key: tenant.key,
    });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { queue: string; maxAttempts: number; payload: unknown };
    expect(job.queue).toBe('emails');
    expect(job.maxAttempts).toBe(6);
    // Stored as submitted: the API does not rewrite addresses.
    expect((job.payload as { to: unknown }).to).toEqual([
      '"Doe, Jane" <jane@example.com>',
      { address: 'joe@example.com' },
    ]);
  });
});
