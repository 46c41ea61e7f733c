import type {
  JobEventView,
  JobOptions,
  JobStatus,
  JobType,
  JobView,
  ResultOf,
  ScheduleView,
  scheduleRequest,
} from '@conveyor/shared';
import type { catalog } from '@conveyor/shared/catalog';
import type { z } from 'zod';

/**
 * What a submit may send for kind T: the payload schema's *input* type, so fields with defaults are
 * optional (the server fills them in). The job view carries the parsed payload (`PayloadOf<T>`).
 */
export type PayloadInput<T extends JobType> = z.input<(typeof catalog)[T]['payload']>;

/** A submit request, discriminated by `type`: `{ type: 'noop', payload: { sleepMs: 10 } }`. */
export type SubmitRequest<T extends JobType = JobType> = {
  [K in T]: { type: K; payload?: PayloadInput<K>; options?: JobOptions; webhook?: { url: string } };
}[T];

/** A job of kind T as the API returns it, with its result typed by kind. */
export type TypedJob<T extends JobType> = Omit<JobView, 'type' | 'result'> & {
  type: T;
  result: ResultOf<T> | null;
};

/** A job of any kind; narrow it with `job.type === 'email.send'`. */
export type Job = { [K in JobType]: TypedJob<K> }[JobType];

export type JobField = keyof JobView;

/** A job read with `fields`: only the named top-level fields, plus `id`. */
export type PartialJob<F extends JobField> = Pick<JobView, F | 'id'>;

export interface ListQuery {
  status?: JobStatus | JobStatus[];
  type?: JobType;
  queue?: string;
  /** RFC 3339; a Date is sent as its ISO string. */
  createdAfter?: string | Date;
  createdBefore?: string | Date;
  /** Up to 100 ids. */
  ids?: string[];
  fields?: JobField[];
  /** 1–100; default 20 (server side). */
  limit?: number;
  cursor?: string;
}

export interface Page<J = Job> {
  data: J[];
  nextCursor: string | null;
}

/** A timeline event as streamed, with the SSE id to resume from (`lastEventId`). */
export type StreamedJobEvent = JobEventView & { id: string | undefined };

export interface Upload {
  id: string;
  contentType: string;
  bytes: number;
  createdAt: string;
  expiresAt: string;
}

export interface Artifact {
  id: string;
  name: string;
  contentType: string;
  bytes: number;
  metadata: unknown;
  createdAt: string;
  /** Path of the download, relative to the API's origin. */
  url: string;
}

export interface Download {
  bytes: Uint8Array;
  contentType: string;
  etag: string | null;
  /** The file name from Content-Disposition, when the server sent one. */
  filename: string | null;
}

/** A schedule body (POST /v1/schedules, PUT /v1/schedules/{id}): the template is a submit request. */
export type ScheduleInput = Omit<z.input<typeof scheduleRequest>, 'template'> & { template: SubmitRequest };

export type Schedule = ScheduleView;
