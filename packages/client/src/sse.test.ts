import { describe, expect, it } from 'vitest';
import { parseSse, type ServerSentEvent } from './sse';

/** A body that delivers `chunks` one read at a time, as a network stream might split them. */
const streamOf = (chunks: (string | Uint8Array)[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? new TextEncoder().encode(c) : c);
      controller.close();
    },
  });

const collect = async (chunks: (string | Uint8Array)[]) => {
  const out: ServerSentEvent[] = [];
  for await (const e of parseSse(streamOf(chunks))) out.push(e);
  return out;
};

describe('parseSse', () => {
  it('parses id, event and data, and skips comments', async () => {
    expect(
      await collect(['id: 1\nevent: queued\ndata: {"a":1}\n\n', ': keep-alive\n\n', 'id: 2\ndata: x\n\n']),
    ).toEqual([
      { id: '1', event: 'queued', data: '{"a":1}' },
      { id: '2', event: 'message', data: 'x' },
    ]);
  });

  it('reassembles events split across chunks, including inside a line end and a UTF-8 character', async () => {
    const euro = new TextEncoder().encode('€');
    expect(
      await collect(['id: 7\r', '\nda', 'ta: price ', euro.slice(0, 1), euro.slice(1), '\r\n', '\r\n']),
    ).toEqual([{ id: '7', event: 'message', data: 'price €' }]);
  });

  it('joins multi-line data with newlines and keeps only one leading space', async () => {
    expect(await collect(['data:  two\ndata\ndata: lines\n\n'])).toEqual([
      { id: undefined, event: 'message', data: ' two\n\nlines' },
    ]);
  });

  it('keeps the last event id for later events and drops an unterminated last event', async () => {
    expect(await collect(['id: 3\ndata: a\n\ndata: b\n\ndata: cut off'])).toEqual([
      { id: '3', event: 'message', data: 'a' },
      { id: '3', event: 'message', data: 'b' },
    ]);
  });

  it('does not dispatch an event without data', async () => {
    expect(await collect(['event: ping\n\n', 'data: y\n\n'])).toEqual([
      { id: undefined, event: 'message', data: 'y' },
    ]);
  });
});
