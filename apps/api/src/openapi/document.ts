import {
  catalog,
  createApiKeyRequest,
  createTenantRequest,
  JOB_FIELDS,
  JOB_STATUSES,
  jobEventView,
  jobOptions,
  jobTypes,
  jobView,
  jobWebhook,
  problem,
  updateTenantLimitsRequest,
} from '@conveyor/shared';
import { z } from 'zod';
import { schedulePaths } from './schedule-paths';
import { createComponentRegistry, pageParams } from './schemas';
import { webhookPaths } from './webhook-paths';

type Json = Record<string, unknown>;

const problemCodes: Record<number, string> = {
  400: 'invalid_json or invalid_parameter',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found (also for another tenant’s resources)',
  409: 'invalid_state',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_failed or idempotency_key_reused',
  429: 'rate_limited (with Retry-After; RateLimit and RateLimit-Policy headers)',
  503: 'unavailable (with Retry-After)',
};

/**
 * The OpenAPI 3.1 document of every route the app serves, built from the same zod schemas that validate
 * requests, so the document cannot drift from the contract. Each job kind's payload and result schema
 * comes from the catalog.
 */
export function buildOpenApiDocument(version = '0.1.0'): Json {
  const { ref, schemas } = createComponentRegistry();
  const Problem = ref('Problem', problem);
  const errors = (...statuses: number[]) =>
    Object.fromEntries(
      statuses.map((s) => [
        String(s),
        { description: problemCodes[s], content: { 'application/problem+json': { schema: Problem } } },
      ]),
    );
  const json = (schema: Json, description: string, headers?: Json) => ({
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema } },
  });
  const Job = ref('Job', jobView);
  const options = ref('JobOptions', jobOptions, 'input');

  // One request variant per job kind: its payload schema, discriminated by `type`.
  const submitVariants = jobTypes.map((type) => {
    const kind = catalog[type];
    const name = `Submit_${type.replace(/\W/g, '_')}`;
    return ref(
      name,
      z
        .object({
          type: z.literal(type),
          payload: kind.payload,
          options: jobOptions.optional(),
          webhook: jobWebhook.optional(),
        })
        .strict()
        .meta({ description: `Submit a \`${type}\` job (queue \`${kind.queue}\`).` }),
      'input',
    );
  });
  const resultVariants = Object.fromEntries(
    jobTypes.map((type) => [type, ref(`Result_${type.replace(/\W/g, '_')}`, catalog[type].result)]),
  );
  void options;

  const idParam = (what: string) => ({
    name: 'id',
    in: 'path',
    required: true,
    schema: { type: 'string', format: 'uuid' },
    description: `The ${what} id.`,
  });
  const fieldsParam = {
    name: 'fields',
    in: 'query',
    schema: { type: 'string' },
    description: `Comma list of top-level fields to return (id is always included): ${JOB_FIELDS.join(', ')}.`,
  };
  const auth = [{ apiKey: [] }];
  const admin = [{ adminToken: [] }];
  const idempotent = {
    name: 'Idempotency-Key',
    in: 'header',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
    description:
      'Printable ASCII. The same key and body within 24 h answer the same job (Idempotent-Replayed: true).',
  };

  const paths: Json = {
    '/health/live': {
      get: { summary: 'Process is up (no I/O)', responses: { 200: json({ type: 'object' }, 'Alive') } },
    },
    '/health/ready': {
      get: {
        summary:
          'Postgres and Redis reachable; reports redisMaxmemoryPolicy, with a warning unless it is noeviction',
        responses: { 200: json({ type: 'object' }, 'Ready'), ...errors(503) },
      },
    },
    '/metrics': {
      get: {
        summary:
          'Prometheus text: request durations, queue depth and oldest waiting age, workers online (open unless METRICS_TOKEN is set; then Bearer that token)',
        responses: {
          200: {
            description: 'Prometheus text format 0.0.4',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...errors(401),
        },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1') } },
    },
    '/docs': {
      get: {
        summary: 'This document as a browsable reference (HTML; every asset served from this origin)',
        responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/docs/assets/scalar.js': {
      get: {
        summary: "The reference page's UI bundle (Scalar standalone), served locally",
        responses: {
          200: { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' } } } },
          304: { description: 'Not modified' },
        },
      },
    },
    '/docs/assets/init.js': {
      get: {
        summary: 'Mounts the reference on the page and points it at /openapi.json',
        responses: {
          200: { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' } } } },
          304: { description: 'Not modified' },
        },
      },
    },
    '/dashboard': {
      get: {
        summary:
          'The job dashboard for operators (HTML; public and static: it signs in with an API key and reads everything through /v1)',
        responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/dashboard/assets/app.js': {
      get: {
        summary: "The dashboard's script, served locally",
        responses: {
          200: { description: 'JavaScript', content: { 'text/javascript': { schema: { type: 'string' } } } },
          304: { description: 'Not modified' },
        },
      },
    },
    '/dashboard/assets/icon.svg': {
      get: {
        summary: "The dashboard's icon, served locally",
        responses: {
          200: { description: 'SVG', content: { 'image/svg+xml': { schema: { type: 'string' } } } },
          304: { description: 'Not modified' },
        },
      },
    },
    '/dashboard/assets/app.css': {
      get: {
        summary: "The dashboard's stylesheet, served locally",
        responses: {
          200: { description: 'CSS', content: { 'text/css': { schema: { type: 'string' } } } },
          304: { description: 'Not modified' },
        },
      },
    },
    '/v1/jobs': {
      post: {
        summary: 'Submit a job',
        security: auth,
        parameters: [idempotent],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { oneOf: submitVariants, discriminator: { propertyName: 'type' } },
            },
          },
        },
        responses: {
          202: json(Job, 'Accepted: the job is committed.', { Location: { schema: { type: 'string' } } }),
          ...errors(400, 401, 403, 413, 415, 422, 429, 503),
        },
      },
      get: {
        summary: 'List jobs, newest first (keyset pagination)',
        security: auth,
        parameters: [
          {
            name: 'status',
            in: 'query',
            schema: { type: 'string' },
            description: `Comma list of ${JOB_STATUSES.join(', ')}.`,
          },
          { name: 'type', in: 'query', schema: { type: 'string' } },
          { name: 'queue', in: 'query', schema: { type: 'string' } },
          { name: 'createdAfter', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'createdBefore', in: 'query', schema: { type: 'string', format: 'date-time' } },
          {
            name: 'ids',
            in: 'query',
            schema: { type: 'string' },
            description: 'Comma list of up to 100 job ids.',
          },
          fieldsParam,
          ...pageParams,
        ],
        responses: {
          200: json(
            {
              type: 'object',
              properties: { data: { type: 'array', items: Job }, nextCursor: { type: ['string', 'null'] } },
            },
            'A page of jobs; a Link rel="next" header when there is a next page.',
          ),
          ...errors(400, 401, 403, 503),
        },
      },
    },
    '/v1/jobs/batch': {
      post: {
        summary: 'Submit up to 1,000 jobs atomically (all or nothing), enqueued with one addBulk',
        security: auth,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  jobs: { type: 'array', minItems: 1, maxItems: 1000, items: { oneOf: submitVariants } },
                },
                required: ['jobs'],
                additionalProperties: false,
              },
            },
          },
        },
        responses: {
          202: json(
            { type: 'object', properties: { data: { type: 'array', items: Job } } },
            'Accepted, in request order',
          ),
          ...errors(400, 401, 403, 413, 415, 422, 429, 503),
        },
      },
    },
    '/v1/jobs/{id}': {
      get: {
        summary: 'Read one job',
        security: auth,
        parameters: [
          idParam('job'),
          fieldsParam,
          {
            name: 'wait',
            in: 'query',
            schema: { type: 'integer', minimum: 0, maximum: 30 },
            description: 'Long-poll: hold the answer up to this many seconds until the job is terminal.',
          },
          { name: 'If-None-Match', in: 'header', schema: { type: 'string' } },
        ],
        responses: {
          200: {
            ...json(Job, 'The job; `result` is shaped by its kind', {
              ETag: { schema: { type: 'string' } },
              'Cache-Control': {
                schema: { type: 'string' },
                description:
                  '`private, no-cache` while the job can change; `private, max-age=60` (TERMINAL_JOB_MAX_AGE_S) once finished',
              },
            }),
            'x-result-schemas': resultVariants,
          },
          304: { description: 'Not modified' },
          ...errors(401, 403, 404, 503),
        },
      },
    },
    '/v1/jobs/{id}/events': {
      get: {
        summary: "The job's timeline, oldest first; with Accept: text/event-stream, a live SSE stream",
        security: auth,
        parameters: [idParam('job'), { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } }],
        responses: {
          200: {
            description: 'Events (JSON), or an SSE stream that ends after the terminal event',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { data: { type: 'array', items: ref('JobEvent', jobEventView) } },
                },
              },
              'text/event-stream': { schema: { type: 'string' } },
            },
          },
          ...errors(401, 403, 404, 503),
        },
      },
    },
    '/v1/jobs/{id}/cancel': {
      post: {
        summary: 'Cancel a queued job, or ask a running one to stop',
        security: auth,
        parameters: [idParam('job')],
        responses: { 202: json(Job, 'Canceled, or cancel requested'), ...errors(401, 403, 404, 409, 503) },
      },
    },
    '/v1/jobs/{id}/retry': {
      post: {
        summary: 'Run a failed or canceled job again with a fresh attempt budget',
        security: auth,
        parameters: [idParam('job')],
        responses: { 202: json(Job, 'Queued again'), ...errors(401, 403, 404, 409, 503) },
      },
    },
    '/v1/jobs/{id}/artifacts': {
      get: {
        summary: "A job's outputs",
        security: auth,
        parameters: [idParam('job')],
        responses: {
          200: json({ type: 'object' }, 'Artifacts with download urls'),
          ...errors(401, 403, 404, 503),
        },
      },
    },
    '/v1/artifacts/{id}': {
      get: {
        summary: 'Download an artifact (ETag, Range)',
        security: auth,
        parameters: [idParam('artifact'), { name: 'Range', in: 'header', schema: { type: 'string' } }],
        responses: {
          200: { description: 'The bytes, with Content-Type, Content-Length, ETag, Content-Disposition' },
          206: { description: 'A byte range' },
          304: { description: 'Not modified' },
          416: { description: 'Range not satisfiable' },
          ...errors(401, 403, 404, 503),
        },
      },
    },
    '/v1/events': {
      get: {
        summary: "Live stream (SSE) of the tenant's job changes: event `job`, data {jobId, type, status}",
        security: auth,
        parameters: [
          { name: 'type', in: 'query', schema: { type: 'string' }, description: 'Comma list of job types.' },
          { name: 'status', in: 'query', schema: { type: 'string' }, description: 'Comma list of statuses.' },
        ],
        responses: { 200: { description: 'text/event-stream' }, ...errors(400, 401, 403) },
      },
    },
    '/v1/queues': {
      get: {
        summary:
          'Fleet view of the deployment (every tenant): per queue, BullMQ counts, oldest waiting age, jobs finished in the last minute and the workers online',
        security: auth,
        responses: {
          200: json(
            {
              type: 'object',
              required: ['data', 'workersOnline'],
              properties: {
                workersOnline: { type: 'integer', description: 'Worker processes with a fresh heartbeat.' },
                data: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: [
                      'name',
                      'counts',
                      'oldestWaitingAgeSeconds',
                      'throughput',
                      'workersOnline',
                      'workers',
                    ],
                    properties: {
                      name: { type: 'string' },
                      counts: {
                        type: 'object',
                        properties: Object.fromEntries(
                          ['waiting', 'active', 'delayed', 'failed', 'completed'].map((k) => [
                            k,
                            { type: 'integer' },
                          ]),
                        ),
                        description:
                          'completed and failed are what BullMQ still keeps (trimmed by age/count).',
                      },
                      oldestWaitingAgeSeconds: { type: 'number', description: '0 when nothing waits.' },
                      throughput: {
                        type: 'object',
                        properties: {
                          completedLastMinute: { type: 'integer' },
                          failedLastMinute: { type: 'integer' },
                        },
                      },
                      workersOnline: { type: 'integer' },
                      workers: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            id: { type: 'string' },
                            hostname: { type: 'string' },
                            pid: { type: 'integer' },
                            concurrency: { type: 'integer' },
                            active: {
                              type: 'integer',
                              description: 'Jobs the process runs now (all its queues).',
                            },
                            startedAt: { type: 'string', format: 'date-time' },
                            lastSeen: { type: 'string', format: 'date-time' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            'One entry per queue',
          ),
          ...errors(401, 403, 429, 503),
        },
      },
    },
    '/v1/uploads': {
      post: {
        summary: 'Upload an input file (an image to resize)',
        security: auth,
        requestBody: {
          required: true,
          content: Object.fromEntries(
            ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/avif', 'image/tiff'].map((t) => [
              t,
              { schema: { type: 'string', contentMediaType: t } },
            ]),
          ),
        },
        responses: {
          201: json({ type: 'object' }, 'Stored; reference it as {"uploadId": id}'),
          ...errors(401, 403, 413, 415, 422, 503),
        },
      },
    },
    '/v1/admin/tenants': {
      post: {
        summary: 'Create a tenant',
        security: admin,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('CreateTenant', createTenantRequest, 'input') } },
        },
        responses: { 201: json({ type: 'object' }, 'Created'), ...errors(400, 401, 404, 415, 422) },
      },
    },
    '/v1/admin/tenants/{id}': {
      patch: {
        summary:
          "Set a tenant's own rate limit and active-job cap (null = the deployment's default, 0 = unlimited)",
        security: admin,
        parameters: [idParam('tenant')],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: ref('UpdateTenantLimits', updateTenantLimitsRequest, 'input') },
          },
        },
        responses: {
          200: json({ type: 'object' }, 'The tenant with its limits'),
          ...errors(400, 401, 404, 415, 422),
        },
      },
    },
    '/v1/admin/tenants/{id}/api-keys': {
      post: {
        summary: 'Create an API key for a tenant (the key is shown once)',
        security: admin,
        parameters: [idParam('tenant')],
        requestBody: {
          content: { 'application/json': { schema: ref('CreateApiKey', createApiKeyRequest, 'input') } },
        },
        responses: { 201: json({ type: 'object' }, 'Created'), ...errors(400, 401, 404, 415, 422) },
      },
    },
    '/v1/admin/api-keys/{id}': {
      delete: {
        summary: 'Revoke an API key',
        security: admin,
        parameters: [idParam('API key')],
        responses: { 204: { description: 'Revoked' }, ...errors(401, 404) },
      },
    },
    ...schedulePaths({ ref, errors, json, idParam, auth }),
    ...webhookPaths({ ref, errors, json, idParam, auth }),
  };

  // Every API-key route is rate limited (and failed authentication is throttled per address): each one can
  // answer 429, and each answer carries the RateLimit headers (draft-ietf-httpapi-ratelimit-headers).
  const rateLimitHeaders = {
    RateLimit: { schema: { type: 'string' }, description: 'e.g. "default";r=598;t=1' },
    'RateLimit-Policy': { schema: { type: 'string' }, description: 'e.g. "default";q=600;w=60' },
  };
  for (const ops of Object.values(paths) as Record<
    string,
    { security?: unknown; responses: Record<string, Json> }
  >[]) {
    for (const op of Object.values(ops)) {
      if (op.security !== auth) continue;
      Object.assign(op.responses, { ...errors(429), ...op.responses });
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 300)
          response.headers = { ...rateLimitHeaders, ...(response.headers as Json | undefined) };
      }
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Conveyor',
      version,
      description:
        'Self-hosted job processing. Errors are application/problem+json (RFC 9457) with a stable `code`.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key: cvr_<prefix>_<secret>' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
      },
    },
  };
}
