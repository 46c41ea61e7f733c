import { createServer, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { type Mime, parseMime } from './mime';

/** One DATA transfer the sink took in, whether it then accepted or refused it. */
export interface ReceivedMessage {
  mailFrom: string;
  /** Envelope recipients the sink accepted at RCPT TO, in order. */
  rcptTo: string[];
  raw: string;
  mime: Mime;
  messageId: string | undefined;
  /** The reply code the sink answered DATA with (250 when it accepted it; 0 while it stalls). */
  answered: number;
}

/** A reply code to refuse with, undefined to accept, or 'stall' to never answer. */
export type Verdict = number | 'stall' | undefined;

export interface SmtpSinkRules {
  /** Per RCPT TO address. */
  rcpt?: (address: string) => number | undefined;
  /** Per message, after it was read in full; `seen` counts earlier DATA transfers of the same Message-ID. */
  data?: (message: Omit<ReceivedMessage, 'answered'>, seen: number) => Verdict;
}

export interface SmtpSink {
  port: number;
  /** `smtp://127.0.0.1:<port>?ignoreTLS=true`, for the worker's email settings. */
  url: string;
  /** Every DATA transfer, oldest first. */
  messages: ReceivedMessage[];
  /** Replaces the rules; the default accepts everything. */
  rules: SmtpSinkRules;
  byMessageId(messageId: string): ReceivedMessage[];
  /** SMTP sessions that have ended (the client or the server closed the connection). */
  closedSessions(): number;
  close(): Promise<void>;
}

const refusal = (code: number) =>
  Object.assign(new Error(code >= 500 ? 'Refused by the test sink' : 'Try again later (test sink)'), {
    responseCode: code,
  });

/** A real SMTP server on 127.0.0.1 (no TLS, no auth) that keeps what it receives: the downstream fake. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  let closed = 0;
  const sink = {
    rules: {} as SmtpSinkRules,
  };
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    // Connections still open at close() (a stalled DATA) are dropped after 1 s, not the default 30 s.
    closeTimeout: 1_000,
    onClose() {
      closed++;
    },
    onRcptTo(address, _session, callback) {
      const code = sink.rules.rcpt?.(address.address);
      callback(code === undefined ? null : refusal(code));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mime = parseMime(raw);
        const message = {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw,
          mime,
          messageId: mime.header('message-id'),
        };
        const seen = messages.filter((m) => m.messageId === message.messageId).length;
        const code = sink.rules.data?.(message, seen);
        messages.push({ ...message, answered: code === 'stall' ? 0 : (code ?? 250) });
        if (code !== 'stall') callback(code === undefined ? null : refusal(code));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('smtp sink has no port');
  return {
    port: address.port,
    url: `smtp://127.0.0.1:${address.port}?ignoreTLS=true`,
    messages,
    get rules() {
      return sink.rules;
    },
    set rules(rules: SmtpSinkRules) {
      sink.rules = rules;
    },
    byMessageId: (messageId) => messages.filter((m) => m.messageId === messageId),
    closedSessions: () => closed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A TCP server that accepts connections and never says a word: no SMTP greeting ever comes. */
export async function startSilentServer(): Promise<{
  url: string;
  connections: () => number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('silent server has no port');
  return {
    url: `smtp://127.0.0.1:${address.port}?ignoreTLS=true`,
    connections: () => count,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
