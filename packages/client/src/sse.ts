/** One server-sent event (WHATWG HTML §9.2). `event` defaults to `message`, as in browsers. */
export interface ServerSentEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Parses a text/event-stream body into events, as they arrive. Handles CRLF/CR/LF line ends, multi-line
 * `data`, comments (`: keep-alive`), a field with no colon, the one optional space after the colon, and
 * chunks split anywhere (even inside a UTF-8 sequence). An event without data is not dispatched (per spec);
 * a trailing event with no blank line after it is dropped, as a browser would.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let lastId: string | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      // A lone \r at the end may be half of \r\n: keep it until the next chunk shows.
      for (let m = /\r\n|\r(?!$)|\n/.exec(buffer); m; m = /\r\n|\r(?!$)|\n/.exec(buffer)) {
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === '') {
          if (id !== undefined) lastId = id;
          if (data.length > 0) yield { id: lastId, event: event || 'message', data: data.join('\n') };
          data = [];
          event = '';
          id = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
