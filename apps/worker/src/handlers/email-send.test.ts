import { JobError, PermanentError } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { classifyError } from '../job-error';
import { classifySmtpError } from './email-send';

/** An error shaped as nodemailer hands it over: `code`, and for a server reply `responseCode` and `response`. */
const smtpError = (fields: { code?: string; responseCode?: number; response?: string; command?: string }) =>
  Object.assign(new Error(fields.response ?? 'failed'), fields);

/** What the job runner makes of a handler's error. */
const outcome = (error: unknown) => classifyError(classifySmtpError(error), false);

describe('SMTP error classification', () => {
  it.each([550, 551, 552, 553, 554, 521, 530])('fails the job for good on a %i reply', (responseCode) => {
    const error = smtpError({
      code: 'EENVELOPE',
      responseCode,
      command: 'RCPT TO',
      response: `${responseCode} no`,
    });
    expect(classifySmtpError(error)).toBeInstanceOf(PermanentError);
    expect(outcome(error)).toEqual({
      body: { code: 'smtp_rejected', message: `RCPT TO: ${responseCode} no` },
      retryable: false,
    });
  });

  it.each([421, 450, 451, 452, 454])('retries a %i reply', (responseCode) => {
    const error = smtpError({ code: 'EMESSAGE', responseCode, command: 'DATA' });
    expect(classifySmtpError(error)).toBeInstanceOf(JobError);
    expect(outcome(error)).toMatchObject({ body: { code: 'smtp_temporary' }, retryable: true });
  });

  it('retries a 503 (bad sequence of commands): a session fault, not a verdict on the message', () => {
    expect(outcome(smtpError({ code: 'EPROTOCOL', responseCode: 503 }))).toMatchObject({
      body: { code: 'smtp_temporary' },
      retryable: true,
    });
  });

  it.each(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROXY', 'EPROTOCOL'])(
    'retries %s as the server being unavailable',
    (code) => {
      expect(outcome(smtpError({ code }))).toMatchObject({
        body: { code: 'smtp_unavailable' },
        retryable: true,
      });
    },
  );

  it('says which wait timed out', () => {
    const mapped = classifySmtpError(
      Object.assign(new Error('Greeting never received'), {
        code: 'ETIMEDOUT',
        timeoutType: 'GREETING_TIMEOUT',
      }),
    );
    expect(mapped.message).toBe('greeting timeout: Greeting never received');
  });

  it('retries a refused login (535) as a deployment fault, not a rejection of the message', () => {
    expect(outcome(smtpError({ code: 'EAUTH', responseCode: 535 }))).toMatchObject({
      body: { code: 'smtp_misconfigured' },
      retryable: true,
    });
  });

  it('fails for good when the mailer refuses the message before sending it', () => {
    expect(outcome(smtpError({ code: 'EENVELOPE' }))).toMatchObject({
      body: { code: 'invalid_message' },
      retryable: false,
    });
  });

  it('decides by code, never by the text of the reply', () => {
    const temporary = smtpError({
      code: 'EMESSAGE',
      responseCode: 451,
      response: '451 permanent failure 550',
    });
    expect(outcome(temporary)).toMatchObject({ body: { code: 'smtp_temporary' }, retryable: true });
  });

  it('leaves an abort to the runner, and keeps the original error as the cause', () => {
    const aborted = smtpError({ code: 'EABORT' });
    expect(classifySmtpError(aborted)).toBe(aborted);
    const original = smtpError({ code: 'ECONNECTION' });
    expect(classifySmtpError(original).cause).toBe(original);
  });

  it('passes on an error that already carries a decision', () => {
    const permanent = new PermanentError('invalid_payload', 'x');
    expect(classifySmtpError(permanent)).toBe(permanent);
  });

  it('retries anything unknown', () => {
    expect(outcome(new Error('what'))).toMatchObject({ body: { code: 'smtp_unavailable' }, retryable: true });
    expect(outcome('a string')).toMatchObject({ body: { code: 'smtp_unavailable' }, retryable: true });
  });
});
