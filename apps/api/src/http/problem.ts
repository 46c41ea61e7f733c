import { AppError, type ErrorCode, type Problem } from '@conveyor/shared';

const TITLES: Record<ErrorCode, string> = {
  invalid_json: 'Invalid JSON',
  invalid_parameter: 'Invalid parameter',
  unauthenticated: 'Unauthenticated',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  invalid_state: 'Invalid state',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  validation_failed: 'Validation failed',
  idempotency_key_reused: 'Idempotency key reused',
  rate_limited: 'Too many requests',
  range_not_satisfiable: 'Range not satisfiable',
  unavailable: 'Service unavailable',
  internal: 'Internal server error',
};

/** The problem type URI of a code; documented in docs/api.md#errors. */
export const problemType = (code: ErrorCode) => `https://conveyor.dev/problems/${code.replace(/_/g, '-')}`;

export function problemBody(error: AppError, requestId: string): Problem {
  return {
    type: problemType(error.code),
    title: TITLES[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export const internalError = () =>
  new AppError('internal', 500, 'Something went wrong on our side. It has been logged.');
