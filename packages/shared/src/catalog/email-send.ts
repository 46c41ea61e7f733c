import { z } from 'zod';
import { defineKind } from './kind';

/** Most recipients in one field (`to`, `cc` or `bcc`), as API.md fixes for `to`. */
export const MAX_RECIPIENTS_PER_FIELD = 50;
/** Most recipients of one message: 100 is what RFC 5321 (4.5.3.1.8) requires every server to accept. */
export const MAX_RECIPIENTS = 100;
/** Longest subject, in characters: RFC 5322's line limit, though the subject is folded when sent. */
const MAX_SUBJECT = 998;
/** Longest display name in an address, in characters. */
const MAX_NAME = 200;
/** Longest `text` or `html` body, in characters; the API's body limit (1 MiB by default) usually bites first. */
const MAX_BODY = 1_000_000;

/** CR and LF end a header line, so in a header field they would let a payload add headers of its own. */
const HEADER_BREAKERS = /[\r\n\0]/;
const NO_HEADER_BREAKERS = 'must not contain CR, LF or NUL';

/** A text that goes into a header: a subject or a display name. */
const headerText = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((value) => !HEADER_BREAKERS.test(value), NO_HEADER_BREAKERS);

/** A plain address, `user@example.com`: zod's conservative format (ASCII, dotted domain); 254 is RFC 5321's path limit. */
const emailAddress = z.email().max(254);

/** An address with an optional display name, the form handed to the mailer. */
export interface Mailbox {
  name?: string;
  address: string;
}

/** `"Name" <user@example.com>` or `Name <user@example.com>`; anything else is read as a bare address. */
const NAMED = /^([^<>]*)<([^<>]*)>$/;

/**
 * Reads `user@example.com` or `Name <user@example.com>` (the name optionally in double quotes, with
 * backslash escapes). Returns undefined for anything else, including a list: one string is one address.
 */
export function parseMailbox(value: string): Mailbox | undefined {
  if (HEADER_BREAKERS.test(value)) return undefined;
  const named = NAMED.exec(value.trim());
  const address = (named ? named[2]! : value).trim();
  if (!emailAddress.safeParse(address).success) return undefined;
  let name = named ? named[1]!.trim() : '';
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"'))
    name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  if (name.length > MAX_NAME) return undefined;
  return name ? { name, address } : { address };
}

/** Longest `Name <address>` string: a quoted, escaped name, the brackets and the address. */
const MAX_MAILBOX = 2 * MAX_NAME + 256 + 4;

const mailboxString = z.string().superRefine((value, ctx) => {
  // Checked first, so an oversized string is not fed to the address parser.
  if (value.length > MAX_MAILBOX)
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_MAILBOX} characters` });
  else if (HEADER_BREAKERS.test(value)) ctx.addIssue({ code: 'custom', message: NO_HEADER_BREAKERS });
  else if (!parseMailbox(value))
    ctx.addIssue({
      code: 'custom',
      message: `must be an email address or "Name <address>" (name at most ${MAX_NAME} characters)`,
    });
});

const mailboxObject = z.object({ name: headerText(0, MAX_NAME).optional(), address: emailAddress }).strict();

/** One address: `"user@example.com"`, `"Name <user@example.com>"` or `{"name"?, "address"}`. */
export const emailMailbox = z.union([mailboxString, mailboxObject]);

/** One address or a list of 1–50. The count is checked after the union so its message survives. */
const mailboxList = z
  .union([emailMailbox, z.array(emailMailbox).min(1)])
  .check(
    z.refine(
      (value) => !Array.isArray(value) || value.length <= MAX_RECIPIENTS_PER_FIELD,
      `at most ${MAX_RECIPIENTS_PER_FIELD} addresses`,
    ),
  );

const count = (list: unknown) => (list === undefined ? 0 : Array.isArray(list) ? list.length : 1);

export const emailSendPayload = z
  .object({
    to: mailboxList,
    cc: mailboxList.optional(),
    bcc: mailboxList.optional(),
    /** Default: the worker's SMTP_FROM. */
    from: emailMailbox.optional(),
    replyTo: mailboxList.optional(),
    subject: headerText(1, MAX_SUBJECT),
    text: z.string().min(1).max(MAX_BODY).optional(),
    html: z.string().min(1).max(MAX_BODY).optional(),
  })
  .strict()
  .refine((p) => p.text !== undefined || p.html !== undefined, {
    message: 'give text, html or both',
    path: ['text'],
  })
  .refine((p) => count(p.to) + count(p.cc) + count(p.bcc) <= MAX_RECIPIENTS, {
    message: `to, cc and bcc together may name at most ${MAX_RECIPIENTS} recipients`,
    path: ['to'],
  });
export type EmailSendPayload = z.infer<typeof emailSendPayload>;

export const emailSendResult = z
  .object({
    /** The Message-ID header sent, `<jobId@domain>`: the same on every attempt of the job. */
    messageId: z.string(),
    /** Envelope recipients the server accepted. */
    accepted: z.array(z.string()),
    /** Envelope recipients the server refused while accepting the others. */
    rejected: z.array(z.string()),
  })
  .strict();
export type EmailSendResult = z.infer<typeof emailSendResult>;

export const emailSend = defineKind({
  queue: 'emails',
  payload: emailSendPayload,
  result: emailSendResult,
  // A relay's 4xx is usually load or a short outage: six attempts over about 2.5 minutes (5, 10, 20,
  // 40, 80 s nominal) ride it out without holding a message for hours.
  maxAttempts: 6,
  backoff: { baseMs: 5_000, maxMs: 300_000 },
  // Above the worker's SMTP connect + greeting + socket timeouts (10 + 10 + 30 s by default), so a hung
  // server surfaces as an SMTP error with its own code before the attempt's own timeout fires.
  timeoutMs: 120_000,
  // Message bodies carry password-reset links and one-time codes: never logged.
  sensitive: ['text', 'html'],
});
