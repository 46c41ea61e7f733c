import {
  type CreateJobRequest,
  catalog,
  fieldErrors,
  isJobType,
  uuidv7,
  validationFailed,
} from '@conveyor/shared';
import type { NewJobRow } from './schema/index';

export interface NewJobContext {
  tenantId: string;
  /** The request that submitted the job; null for a schedule firing. */
  requestId: string | null;
  idempotencyKey?: string | undefined;
  /** SHA-256 of the canonical request body, kept with an idempotency key to tell a replay from a reuse. */
  requestHash?: string | null | undefined;
  /** The schedule firing this job is for, if any (one job per firing: a unique index). */
  firing?: { scheduleId: string; scheduledFor: Date } | undefined;
  /** Submit time; default now. */
  now?: Date | undefined;
}

/**
 * The row of a new job from a POST /v1/jobs body: what the API inserts for a submit and the worker for a
 * schedule firing, so both build it one way. Validates the payload against its kind, or throws 422
 * validation_failed with every field problem (paths relative to the body).
 */
export function buildJobRow(req: CreateJobRequest, ctx: NewJobContext): NewJobRow {
  if (!isJobType(req.type)) {
    throw validationFailed(
      [{ path: 'type', message: `unknown job type "${req.type}"` }],
      'Unknown job type.',
    );
  }
  const kind = catalog[req.type];
  const payload = kind.payload.safeParse(req.payload);
  if (!payload.success)
    throw validationFailed(
      fieldErrors(payload.error.issues, 'payload'),
      'The payload is not valid for this job type.',
    );
  const now = ctx.now ?? new Date();
  const options = req.options ?? {};
  const runAt = options.runAt ? new Date(options.runAt) : new Date(now.getTime() + (options.delay ?? 0));
  return {
    id: uuidv7(now.getTime()),
    tenantId: ctx.tenantId,
    type: req.type,
    queue: kind.queue,
    status: 'queued',
    priority: options.priority ?? 0,
    payload: payload.data,
    maxAttempts: options.maxAttempts ?? kind.maxAttempts,
    timeoutMs: options.timeout ?? kind.timeoutMs,
    runAt,
    idempotencyKey: ctx.idempotencyKey ?? null,
    requestHash: ctx.idempotencyKey ? (ctx.requestHash ?? null) : null,
    requestId: ctx.requestId,
    webhookUrl: req.webhook?.url ?? null,
    scheduleId: ctx.firing?.scheduleId ?? null,
    scheduledFor: ctx.firing?.scheduledFor ?? null,
    createdAt: now,
    updatedAt: now,
  };
}
