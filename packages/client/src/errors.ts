import type { Problem } from '@conveyor/shared/contracts';

/** A field problem of a 422 answer: where in the request body, and what is wrong there. */
export type FieldProblem = NonNullable<Problem['errors']>[number];

/**
 * Any non-2xx answer of the Conveyor API, carrying its problem+json body (RFC 9457). Branch on `code` — it
 * is the stable part (`not_found`, `invalid_state`, `rate_limited`, ...); `detail` is for humans.
 */
export class ConveyorError extends Error {
  override readonly name = 'ConveyorError';
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | undefined;
  readonly errors: FieldProblem[];
  /** Seconds to wait before retrying, from `Retry-After` (429 and 503); undefined when absent. */
  readonly retryAfterS: number | undefined;
  /** The body as the server sent it, when it was problem+json. */
  readonly problem: Partial<Problem> | undefined;

  constructor(init: {
    status: number;
    code: string;
    detail: string;
    requestId?: string | undefined;
    errors?: FieldProblem[] | undefined;
    retryAfterS?: number | undefined;
    problem?: Partial<Problem> | undefined;
  }) {
    super(`${init.status} ${init.code}: ${init.detail}`);
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.errors = init.errors ?? [];
    this.retryAfterS = init.retryAfterS;
    this.problem = init.problem;
  }
}

/**
 * Reads `Retry-After` as seconds from now: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * `now` in ms since the epoch, for tests.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Turns an error answer into a ConveyorError. A body that is not problem+json (a proxy's HTML 502, an
 * empty 503) still gives a usable error: `code` falls back to `http_<status>`.
 */
export async function errorFromResponse(res: Response): Promise<ConveyorError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const p = isRecord(body) ? (body as Partial<Problem>) : undefined;
  const errors = Array.isArray(p?.errors)
    ? p.errors.filter((e): e is FieldProblem => isRecord(e) && typeof e.path === 'string')
    : undefined;
  return new ConveyorError({
    status: res.status,
    code: typeof p?.code === 'string' ? p.code : `http_${res.status}`,
    detail:
      typeof p?.detail === 'string' ? p.detail : res.statusText || text.slice(0, 200) || `HTTP ${res.status}`,
    requestId:
      typeof p?.requestId === 'string' ? p.requestId : (res.headers.get('x-request-id') ?? undefined),
    errors,
    retryAfterS: parseRetryAfter(res.headers.get('retry-after')),
    problem: p,
  });
}
