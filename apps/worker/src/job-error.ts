import { UnrecoverableError } from '@conveyor/queue';
import { JobError, type JobErrorBody, PermanentError } from '@conveyor/shared';
import { ZodError } from 'zod';

export interface ClassifiedError {
  body: JobErrorBody;
  /** False for errors that retrying cannot fix. Decided by class, never by message text. */
  retryable: boolean;
}

const MAX_MESSAGE = 1_000;

export function classifyError(error: unknown, timedOut: boolean): ClassifiedError {
  const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_MESSAGE);
  if (timedOut)
    return { body: { code: 'timeout', message: 'The attempt ran past its timeout.' }, retryable: true };
  if (error instanceof PermanentError) return { body: { code: error.code, message }, retryable: false };
  if (error instanceof UnrecoverableError)
    return { body: { code: 'unrecoverable', message }, retryable: false };
  if (error instanceof ZodError) return { body: { code: 'invalid_result', message }, retryable: false };
  if (error instanceof JobError) return { body: { code: error.code, message }, retryable: true };
  return { body: { code: 'handler_error', message }, retryable: true };
}

/** The error handed back to BullMQ for a retry; carries the delay its backoffStrategy returns. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryDelayMs: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}
