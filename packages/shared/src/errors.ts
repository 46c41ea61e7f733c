/**
 * The error vocabulary shared by the API and the worker. The API maps every AppError to
 * problem+json in one place; the worker maps PermanentError to BullMQ's UnrecoverableError.
 */

export type ErrorCode =
  | 'invalid_json'
  | 'invalid_parameter'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'invalid_state'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation_failed'
  | 'idempotency_key_reused'
  | 'rate_limited'
  | 'range_not_satisfiable'
  | 'unavailable'
  | 'internal';

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, status: number, detail: string, options: AppErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.errors = options.errors;
    this.headers = options.headers;
  }
}

export const notFound = (what = 'resource') => new AppError('not_found', 404, `No such ${what}.`);

export const invalidParameter = (detail: string, errors?: FieldError[]) =>
  new AppError('invalid_parameter', 400, detail, errors ? { errors } : {});

export const validationFailed = (errors: FieldError[], detail = 'The request body is not valid.') =>
  new AppError('validation_failed', 422, detail, { errors });

export const invalidState = (detail: string) => new AppError('invalid_state', 409, detail);

export const unavailable = (detail: string, retryAfterSeconds = 5, cause?: unknown) =>
  new AppError('unavailable', 503, detail, { headers: { 'Retry-After': String(retryAfterSeconds) }, cause });

/**
 * Thrown by a job handler (or the wrapper around it) when retrying cannot help: a bad payload,
 * a missing input, a permanent rejection downstream. The job fails at once, whatever attempts are left.
 */
export class PermanentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
    this.code = code;
  }
}

/** Thrown by a handler for a retryable failure that deserves its own stable code. */
export class JobError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobError';
    this.code = code;
  }
}

/** Turns zod issues into the `errors[]` of a problem body, paths joined with dots. */
export function fieldErrors(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; keys?: readonly string[] }>,
  prefix = '',
): FieldError[] {
  const join = (parts: ReadonlyArray<PropertyKey>) =>
    [prefix, ...parts.map(String)].filter(Boolean).join('.');
  return issues.flatMap((issue) =>
    // An unknown key is reported at its own path, not at the object that holds it.
    issue.keys?.length
      ? issue.keys.map((key) => ({ path: join([...issue.path, key]), message: 'unknown field' }))
      : [{ path: join(issue.path), message: issue.message }],
  );
}
