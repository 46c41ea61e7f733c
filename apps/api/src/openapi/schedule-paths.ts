import { MAX_SCHEDULES_PER_TENANT, scheduleRequest, scheduleView } from '@conveyor/shared';
import type { z } from 'zod';
import { pageParams } from './schemas';

type Json = Record<string, unknown>;

/** The document's own helpers, so these paths share its components, problem answers and security object. */
export interface PathHelpers {
  ref(name: string, schema: z.ZodType, io?: 'input' | 'output'): Json;
  errors(...statuses: number[]): Json;
  json(schema: Json, description: string, headers?: Json): Json;
  idParam(what: string): Json;
  /** The API-key security requirement (the very object the document marks rate-limited routes by). */
  auth: unknown;
}

/** `/v1/schedules` in the OpenAPI document. */
export function schedulePaths({ ref, errors, json, idParam, auth }: PathHelpers): Json {
  const Schedule = ref('Schedule', scheduleView);
  const body = {
    required: true,
    content: { 'application/json': { schema: ref('ScheduleRequest', scheduleRequest, 'input') } },
  };
  const scopes =
    'Reads take an API key with `schedules:write` or `jobs:read`; writes take `schedules:write`.';
  return {
    '/v1/schedules': {
      post: {
        summary: 'Create a cron schedule that submits its job template at every firing',
        description: `cron: 5 fields, or 6 with leading seconds; timezone: an IANA name (default UTC). The template is a POST /v1/jobs body, checked against its kind on write (422 with paths under \`template.\`). At most ${MAX_SCHEDULES_PER_TENANT} schedules per tenant. ${scopes}`,
        security: auth,
        requestBody: body,
        responses: {
          201: json(
            Schedule,
            'Created (saved in Postgres; the Redis mirror follows, or the reconciler makes it)',
            {
              Location: { schema: { type: 'string' } },
            },
          ),
          ...errors(400, 401, 403, 413, 415, 422, 503),
        },
      },
      get: {
        summary: 'List schedules, newest first (keyset pagination)',
        description: scopes,
        security: auth,
        parameters: [...pageParams],
        responses: {
          200: json(
            {
              type: 'object',
              properties: {
                data: { type: 'array', items: Schedule },
                nextCursor: { type: ['string', 'null'] },
              },
            },
            'A page of schedules; a Link rel="next" header when there is a next page.',
          ),
          ...errors(400, 401, 403, 503),
        },
      },
    },
    '/v1/schedules/{id}': {
      get: {
        summary: 'Read one schedule (with its next firing time)',
        description: scopes,
        security: auth,
        parameters: [idParam('schedule')],
        responses: { 200: json(Schedule, 'The schedule'), ...errors(401, 403, 404, 503) },
      },
      put: {
        summary: 'Replace a schedule (a field left out takes its default); pause it with paused: true',
        description: scopes,
        security: auth,
        parameters: [idParam('schedule')],
        requestBody: body,
        responses: { 200: json(Schedule, 'Replaced'), ...errors(400, 401, 403, 404, 413, 415, 422, 503) },
      },
      delete: {
        summary: 'Delete a schedule (jobs it made stay; their scheduleId becomes null)',
        description: scopes,
        security: auth,
        parameters: [idParam('schedule')],
        responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404, 503) },
      },
    },
  };
}
