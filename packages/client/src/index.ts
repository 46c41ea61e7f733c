export { type CallOptions, type ClientOptions, type ConveyorClient, createClient } from './client';
export { ConveyorError, errorFromResponse, type FieldProblem, parseRetryAfter } from './errors';
export { parseSse, type ServerSentEvent } from './sse';
export type * from './types';
