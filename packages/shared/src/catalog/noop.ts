import { z } from 'zod';
import { defineKind } from './kind';

/** A kind that does nothing (or sleeps, or fails on request): for tests, benchmarks and smoke checks. */
export const noopPayload = z
  .object({
    sleepMs: z.number().int().min(0).max(60_000).optional(),
    fail: z.enum(['once', 'always', 'unrecoverable']).optional(),
    echo: z.unknown().optional(),
    // Kills the worker process that runs it (SIGKILL, every attempt): the fault suite's poison pill.
    crash: z.literal(true).optional(),
  })
  .strict();

export const noop = defineKind({
  queue: 'default',
  payload: noopPayload,
  result: noopPayload,
  maxAttempts: 3,
  backoff: { baseMs: 1_000, maxMs: 60_000 },
  timeoutMs: 120_000,
});
