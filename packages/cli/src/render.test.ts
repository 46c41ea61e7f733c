import { ConveyorError } from '@conveyor/client';
import { describe, expect, it } from 'vitest';
import { eventLine, formatApiError, jobSummary, progressBar, statusLine, table } from './render';

const job = {
  id: 'j1',
  type: 'noop',
  status: 'running',
  progress: 40,
  attempts: 1,
  maxAttempts: 5,
} as const;

describe('rendering', () => {
  it('draws a progress bar clamped to 0–100', () => {
    expect(progressBar(0, 10)).toBe('[----------]   0%');
    expect(progressBar(40, 10)).toBe('[####------]  40%');
    expect(progressBar(100, 10)).toBe('[##########] 100%');
    expect(progressBar(null, 10)).toBe('[----------]   0%');
    expect(progressBar(250, 10)).toBe('[##########] 100%');
  });

  it('shows a bar on a TTY and a plain line otherwise; a succeeded job is full', () => {
    expect(statusLine(job, true)).toBe(`${progressBar(40)}  running  attempt 1/5`);
    expect(statusLine(job, false)).toBe('j1 running progress=40 attempt 1/5');
    expect(statusLine({ ...job, status: 'succeeded', progress: 0 }, true)).toContain('100%');
  });

  it('summarises a job with its error and result', () => {
    const text = jobSummary({
      ...job,
      status: 'failed',
      error: { code: 'boom', message: 'it broke' },
      result: null,
    });
    expect(text).toContain('status:    failed');
    expect(text).toContain('error:     boom: it broke');
    expect(text).not.toContain('result:');
    expect(jobSummary({ ...job, status: 'succeeded', result: { echo: 1 } })).toContain(
      'result:    {"echo":1}',
    );
  });

  it('prints one event per line with its data', () => {
    expect(eventLine({ at: '2026-01-01T00:00:00.000Z', type: 'started', data: { attempt: 1 } })).toBe(
      '2026-01-01T00:00:00.000Z  started     {"attempt":1}',
    );
    expect(eventLine({ at: 't', type: 'queued', data: {} })).toBe('t  queued');
  });

  it('aligns rows into a table, flattening nested counts', () => {
    const text = table([
      { name: 'default', counts: { waiting: 3, active: 1 } },
      { name: 'emails', counts: { waiting: 12, active: 0 } },
    ]);
    expect(text.split('\n')).toEqual([
      'name     counts.waiting  counts.active',
      'default  3               1',
      'emails   12              0',
    ]);
    expect(table([{ name: 'a', workers: [{ id: 1 }, { id: 2 }] }]).split('\n')[1]).toBe('a     2');
    expect(table([])).toBe('(none)');
  });

  it("formats an API error with the problem's detail, code, field errors and request id", () => {
    const error = new ConveyorError({
      status: 422,
      code: 'validation_failed',
      detail: 'The payload is invalid.',
      requestId: 'r1',
      errors: [{ path: 'payload.sleepMs', message: 'too big' }],
    });
    expect(formatApiError(error)).toBe(
      [
        'error: The payload is invalid. (validation_failed, HTTP 422)',
        '  payload.sleepMs: too big',
        '  request id: r1',
      ].join('\n'),
    );
  });
});
