import type { JobEventView, JobType, WebhookDeliveryView, WebhookSettingsView } from '@conveyor/shared';
import { errorFromResponse } from './errors';
import { parseSse } from './sse';
import type {
  Artifact,
  Download,
  Job,
  JobField,
  ListQuery,
  Page,
  PartialJob,
  Schedule,
  ScheduleInput,
  StreamedJobEvent,
  SubmitRequest,
  TypedJob,
  Upload,
} from './types';

export interface ClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:3000` (a trailing slash is ignored). */
  baseUrl: string;
  /** A tenant API key (`cvr_...`), sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Called with every response, before it is read (for logging or request-id checks). */
  onResponse?: (res: Response) => void;
}

export interface CallOptions {
  /** Sent as X-Request-Id; the server echoes it and logs the job's work under it. */
  requestId?: string;
  signal?: AbortSignal;
}

type Query = Record<string, string | number | undefined>;

const csv = (v: readonly string[] | string | undefined): string | undefined =>
  typeof v === 'string' || v === undefined ? v : v.join(',');
const iso = (v: string | Date | undefined) => (v instanceof Date ? v.toISOString() : v);
const enc = encodeURIComponent;

/**
 * A typed client of the Conveyor HTTP API (docs/api.md). Every non-2xx answer throws a ConveyorError with
 * the problem+json body; the client never retries by itself (Retry-After is on the error).
 */
export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;

  async function send(
    method: string,
    path: string,
    init: {
      query?: Query;
      json?: unknown;
      body?: Blob | string;
      headers?: Record<string, string>;
    } & CallOptions = {},
  ): Promise<Response> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(init.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}`, ...init.headers };
    if (init.requestId) headers['x-request-id'] = init.requestId;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const res = await doFetch(url, { method, headers, body: body ?? null, signal: init.signal ?? null });
    options.onResponse?.(res);
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }
  const json = async <T>(...args: Parameters<typeof send>) => (await (await send(...args)).json()) as T;

  async function list(query: ListQuery = {}, call: CallOptions = {}): Promise<Page> {
    return json<Page>('GET', '/v1/jobs', {
      ...call,
      query: {
        status: csv(query.status),
        type: query.type,
        queue: query.queue,
        createdAfter: iso(query.createdAfter),
        createdBefore: iso(query.createdBefore),
        ids: csv(query.ids),
        fields: csv(query.fields),
        limit: query.limit,
        cursor: query.cursor,
      },
    });
  }

  /** Every page of a listing, following nextCursor until it is null. */
  async function* pages(query: ListQuery = {}, call: CallOptions = {}): AsyncGenerator<Page> {
    let cursor = query.cursor;
    do {
      const page = await list({ ...query, cursor }, call);
      yield page;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  function get(id: string, opts?: { wait?: number } & CallOptions): Promise<Job>;
  function get<F extends JobField>(
    id: string,
    opts: { fields: F[]; wait?: number } & CallOptions,
  ): Promise<PartialJob<F>>;
  function get(id: string, opts: { fields?: JobField[]; wait?: number } & CallOptions = {}) {
    return json('GET', `/v1/jobs/${enc(id)}`, {
      ...opts,
      query: { fields: csv(opts.fields), wait: opts.wait },
    });
  }

  return {
    /** POST /v1/jobs: the job, typed by its kind. */
    submit<T extends JobType>(
      request: SubmitRequest<T>,
      opts: { idempotencyKey?: string } & CallOptions = {},
    ): Promise<TypedJob<T>> {
      const headers: Record<string, string> = opts.idempotencyKey
        ? { 'idempotency-key': opts.idempotencyKey }
        : {};
      return json('POST', '/v1/jobs', { ...opts, json: request, headers });
    },
    /** POST /v1/jobs/batch: all or nothing; the jobs in request order. */
    async submitBatch(requests: SubmitRequest[], opts: CallOptions = {}): Promise<Job[]> {
      return (await json<{ data: Job[] }>('POST', '/v1/jobs/batch', { ...opts, json: { jobs: requests } }))
        .data;
    },
    get,
    list,
    pages,
    /** Every job matching the query, newest first, across all pages. */
    async *listAll(query: ListQuery = {}, call: CallOptions = {}): AsyncGenerator<Job> {
      for await (const page of pages(query, call)) yield* page.data;
    },
    /** The job's timeline, oldest first. */
    async events(id: string, opts: CallOptions = {}): Promise<JobEventView[]> {
      return (await json<{ data: JobEventView[] }>('GET', `/v1/jobs/${enc(id)}/events`, opts)).data;
    },
    /**
     * The job's timeline live (SSE): events after `lastEventId` (all when absent), ending after the terminal
     * one. Breaking out of the loop or aborting `signal` closes the connection.
     */
    async *streamEvents(
      id: string,
      opts: { lastEventId?: string } & CallOptions = {},
    ): AsyncGenerator<StreamedJobEvent> {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId;
      const res = await send('GET', `/v1/jobs/${enc(id)}/events`, { ...opts, headers });
      if (!res.body) return;
      for await (const e of parseSse(res.body)) yield { ...(JSON.parse(e.data) as JobEventView), id: e.id };
    },
    async cancel(id: string, opts: CallOptions = {}): Promise<Job> {
      return json('POST', `/v1/jobs/${enc(id)}/cancel`, opts);
    },
    async retry(id: string, opts: CallOptions = {}): Promise<Job> {
      return json('POST', `/v1/jobs/${enc(id)}/retry`, opts);
    },
    /** POST /v1/uploads: reference the result as `{ source: { uploadId: upload.id } }`. */
    async upload(
      bytes: Uint8Array | ArrayBuffer | Blob,
      contentType: string,
      opts: CallOptions = {},
    ): Promise<Upload> {
      const body = bytes instanceof Blob ? bytes : new Blob([bytes as Uint8Array<ArrayBuffer>]);
      return json('POST', '/v1/uploads', { ...opts, body, headers: { 'content-type': contentType } });
    },
    async artifacts(jobId: string, opts: CallOptions = {}): Promise<Artifact[]> {
      return (await json<{ data: Artifact[] }>('GET', `/v1/jobs/${enc(jobId)}/artifacts`, opts)).data;
    },
    async download(artifactId: string, opts: CallOptions = {}): Promise<Download> {
      const res = await send('GET', `/v1/artifacts/${enc(artifactId)}`, opts);
      const disposition = res.headers.get('content-disposition') ?? '';
      const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
      const plain = /filename="([^"]*)"/i.exec(disposition)?.[1];
      return {
        bytes: new Uint8Array(await res.arrayBuffer()),
        contentType: res.headers.get('content-type') ?? 'application/octet-stream',
        etag: res.headers.get('etag'),
        filename: star ? decodeURIComponent(star) : (plain ?? null),
      };
    },
    /** /v1/schedules: cron schedules that submit their template at every firing (docs/schedules.md). */
    schedules: {
      create: (body: ScheduleInput, opts: CallOptions = {}): Promise<Schedule> =>
        json('POST', '/v1/schedules', { ...opts, json: body }),
      list: (query: { limit?: number; cursor?: string } = {}, opts: CallOptions = {}) =>
        json<Page<Schedule>>('GET', '/v1/schedules', { ...opts, query }),
      get: (id: string, opts: CallOptions = {}): Promise<Schedule> =>
        json('GET', `/v1/schedules/${enc(id)}`, opts),
      /** A full replacement: fields left out take their defaults. */
      replace: (id: string, body: ScheduleInput, opts: CallOptions = {}): Promise<Schedule> =>
        json('PUT', `/v1/schedules/${enc(id)}`, { ...opts, json: body }),
      delete: async (id: string, opts: CallOptions = {}): Promise<void> => {
        await send('DELETE', `/v1/schedules/${enc(id)}`, opts);
      },
    },
    /** Webhook settings (scope jobs:write, reads included) and delivery logs (docs/webhooks.md). */
    webhooks: {
      settings: (opts: CallOptions = {}): Promise<WebhookSettingsView> =>
        json('GET', '/v1/webhook-settings', opts),
      /** Sets (or with null removes) the default endpoint; setting a URL re-enables it after a 410. */
      setUrl: (url: string | null, opts: CallOptions = {}): Promise<WebhookSettingsView> =>
        json('PUT', '/v1/webhook-settings', { ...opts, json: { url } }),
      rotateSecret: (opts: CallOptions = {}): Promise<WebhookSettingsView> =>
        json('POST', '/v1/webhook-settings/rotate-secret', opts),
      deliveries: async (jobId: string, opts: CallOptions = {}): Promise<WebhookDeliveryView[]> =>
        (await json<{ data: WebhookDeliveryView[] }>('GET', `/v1/jobs/${enc(jobId)}/deliveries`, opts)).data,
    },
  };
}

export type ConveyorClient = ReturnType<typeof createClient>;
