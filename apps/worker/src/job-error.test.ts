import { UnrecoverableError } from '@conveyor/queue';
import { JobError, PermanentError } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyError } from './job-error';

describe('classifyError decides retry by error class, never by message', () => {
  it('retries plain errors and JobErrors, keeping the JobError code', () => {
    expect(classifyError(new Error('boom'), false)).toEqual({
      body: { code: 'handler_error', message: 'boom' },
      retryable: true,
    });
    expect(classifyError(new JobError('smtp_busy', 'try later'), false)).toMatchObject({
      body: { code: 'smtp_busy' },
      retryable: true,
    });
  });

  it('does not retry PermanentError, UnrecoverableError or an invalid result', () => {
    expect(classifyError(new PermanentError('bad_input', 'no'), false)).toMatchObject({
      body: { code: 'bad_input' },
      retryable: false,
    });
    expect(classifyError(new UnrecoverableError('stop'), false)).toMatchObject({
      body: { code: 'unrecoverable' },
      retryable: false,
    });
    const zodError = z.object({ a: z.string() }).safeParse({}).error;
    expect(classifyError(zodError, false)).toMatchObject({
      body: { code: 'invalid_result' },
      retryable: false,
    });
  });

  it('reports a timeout as retryable whatever the handler threw', () => {
    expect(classifyError(new PermanentError('x', 'aborted'), true)).toMatchObject({
      body: { code: 'timeout' },
      retryable: true,
    });
  });

  it('bounds the message length', () => {
    expect(classifyError(new Error('x'.repeat(5_000)), false).body.message).toHaveLength(1_000);
  });
});
