import type { z } from 'zod';
import { emailSend } from './email-send';
import { imageResize } from './image-resize';
import type { JobKind } from './kind';
import { noop } from './noop';
import { reportGenerate } from './report-generate';

export {
  type EmailSendPayload,
  type EmailSendResult,
  emailMailbox,
  emailSendPayload,
  emailSendResult,
  MAX_RECIPIENTS,
  MAX_RECIPIENTS_PER_FIELD,
  type Mailbox,
  parseMailbox,
} from './email-send';
export {
  IMAGE_FITS,
  IMAGE_OUTPUT_FORMATS,
  type ImageOutputFormat,
  imageResizePayload,
  imageResizeResult,
  imageVariant,
  MAX_IMAGE_VARIANTS,
} from './image-resize';
export type { JobKind } from './kind';
export { defineKind } from './kind';
export { noopPayload } from './noop';
export {
  MAX_REPORT_RANGE_DAYS,
  REPORT_FORMATS,
  REPORT_GROUP_BY,
  REPORT_NAMES,
  type ReportFormat,
  type ReportGroupBy,
  reportGeneratePayload,
  reportGenerateResult,
} from './report-generate';

/**
 * The job catalog: kind → queue, schemas, retry and timeout defaults. The worker's handler map is typed
 * against it, so adding a kind here without a handler does not compile.
 */
export const catalog = {
  noop,
  'email.send': emailSend,
  'image.resize': imageResize,
  'report.generate': reportGenerate,
} as const satisfies Record<string, JobKind>;

export type JobType = keyof typeof catalog;
export type PayloadOf<T extends JobType> = z.infer<(typeof catalog)[T]['payload']>;
export type ResultOf<T extends JobType> = z.infer<(typeof catalog)[T]['result']>;
export type QueueName = (typeof catalog)[JobType]['queue'];

export const jobTypes = Object.keys(catalog) as JobType[];

/** Every queue some kind runs on, in catalog order. */
export const queueNames = [...new Set(jobTypes.map((type) => catalog[type].queue))] as QueueName[];

/**
 * The internal queue into which BullMQ's job schedulers emit schedule firings; a worker serving it turns
 * each firing into a job (apps/worker/src/schedules.ts). No job kind runs on it.
 */
export const SCHEDULES_QUEUE = 'schedules';

/** The internal queue of webhook deliveries (apps/worker/src/webhooks); no job kind runs on it. */
export const WEBHOOKS_QUEUE = 'webhooks';

/** Every queue a worker can serve: the catalog's queues, then the schedules and webhooks queues. */
export const workerQueueNames = [...queueNames, SCHEDULES_QUEUE, WEBHOOKS_QUEUE] as const;
export type WorkerQueueName = (typeof workerQueueNames)[number];

export const isJobType = (type: string): type is JobType => Object.hasOwn(catalog, type);

export const kindsOfQueue = (queue: string): JobType[] =>
  jobTypes.filter((type) => catalog[type].queue === queue);
