import { JobError, MAX_RECIPIENTS, type Mailbox, PermanentError, parseMailbox } from '@conveyor/shared';
import { createTransport, type NodemailerError, type SMTPPoolSentMessageInfo } from 'nodemailer';
import type { EmailSettings, Handler } from './types';

type MailboxInput = string | Mailbox;

/** A payload address as the mailer takes it: always `{name?, address}`, never a string it would re-parse. */
function toMailbox(input: MailboxInput): Mailbox {
  if (typeof input !== 'string') return input;
  const mailbox = parseMailbox(input);
  // The payload was validated with the same parser, so this is a broken invariant, not a bad payload.
  if (!mailbox) throw new PermanentError('invalid_payload', 'an address did not parse');
  return mailbox;
}

const toMailboxes = (input: MailboxInput | MailboxInput[] | undefined) =>
  input === undefined ? undefined : (Array.isArray(input) ? input : [input]).map(toMailbox);

/** Codes nodemailer gives errors that reached no verdict on the message: the server was not (fully) there. */
const UNAVAILABLE = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROXY', 'EPROTOCOL']);
/** Our credentials or TLS demands were refused: a deployment fault that retrying after a fix can clear. */
const MISCONFIGURED = new Set(['EAUTH', 'ENOAUTH', 'EREQUIRETLS']);

const replyText = (error: NodemailerError) => {
  const reply = error.response ? `${error.command ?? 'SMTP'}: ${error.response}` : error.message;
  return reply.slice(0, 500);
};

/**
 * Maps a nodemailer error to the worker's vocabulary, by code and SMTP reply class (never by text):
 * a 5xx reply rejects the message for good, a 4xx reply or a failed connection is worth another try.
 * 503 (bad sequence of commands) is a session problem, not a verdict, so it is retried like a 4xx.
 */
export function classifySmtpError(error: unknown): Error {
  if (!(error instanceof Error)) return new JobError('smtp_unavailable', String(error));
  if (error instanceof PermanentError || error instanceof JobError) return error; // already decided
  const e = error as NodemailerError;
  const options = { cause: error };
  if (e.code === 'EABORT') return error; // the runner reports the cancel, timeout or shutdown itself
  if (e.code && MISCONFIGURED.has(e.code))
    return new JobError('smtp_misconfigured', `SMTP login or TLS refused: ${replyText(e)}`, options);
  const reply = e.responseCode;
  if (typeof reply === 'number' && reply >= 500 && reply < 600 && reply !== 503)
    return new PermanentError('smtp_rejected', replyText(e), options);
  if (typeof reply === 'number' && reply >= 400 && reply < 600)
    return new JobError('smtp_temporary', replyText(e), options);
  if (e.code && UNAVAILABLE.has(e.code)) {
    const what = e.timeoutType ? `${e.timeoutType.toLowerCase().replace('_', ' ')}: ` : '';
    return new JobError('smtp_unavailable', `${what}${e.message}`.slice(0, 500), options);
  }
  // EENVELOPE/EMESSAGE without a reply: the mailer refused the message before sending it.
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE' || e.code === 'EMAXRECIPIENTS')
    return new PermanentError('invalid_message', e.message.slice(0, 500), options);
  return new JobError('smtp_unavailable', e.message.slice(0, 500), options);
}

/**
 * The `email.send` handler and the SMTP connection pool it sends through. The pool connects on the first
 * send, not here, and `close()` ends its idle connections (a delivery in progress finishes first).
 */
export function createEmailSender(settings: EmailSettings) {
  const transport = createTransport({
    url: settings.url,
    pool: true,
    maxConnections: settings.poolSize,
    connectionTimeout: settings.connectionTimeoutMs,
    greetingTimeout: settings.greetingTimeoutMs,
    socketTimeout: settings.socketTimeoutMs,
    // Payload bodies are strings, but nothing a message holds may make the worker read a file or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
    maxRecipients: MAX_RECIPIENTS,
  });
  const defaultFrom = parseMailbox(settings.from);
  if (!defaultFrom) throw new Error(`email settings: from "${settings.from}" is not an email address`);

  const send: Handler<'email.send'> = async (payload, ctx) => {
    // The same Message-ID on every attempt, so a copy delivered twice (a retry after a lost reply) is
    // recognisable downstream; `jobId` is a UUID, valid as the left-hand side.
    const messageId = `<${ctx.jobId}@${settings.messageIdDomain}>`;
    let info: SMTPPoolSentMessageInfo;
    const startedAt = performance.now();
    try {
      info = await transport.sendMail({
        messageId,
        from: payload.from === undefined ? defaultFrom : toMailbox(payload.from),
        to: toMailboxes(payload.to),
        cc: toMailboxes(payload.cc),
        bcc: toMailboxes(payload.bcc),
        replyTo: toMailboxes(payload.replyTo),
        subject: payload.subject,
        text: payload.text,
        html: payload.html,
        signal: ctx.signal,
      });
    } catch (error) {
      throw classifySmtpError(error);
    }
    ctx.log.info(
      {
        messageId,
        accepted: info.accepted.length,
        rejected: info.rejected.length,
        smtpMs: Math.round(performance.now() - startedAt),
      },
      'email handed to the SMTP server',
    );
    return { messageId, accepted: info.accepted.map(String), rejected: info.rejected.map(String) };
  };

  return {
    send,
    close() {
      transport.close();
    },
  };
}
