/**
 * Test-only wiring for the API's integration tests: one real app per test file, on its own database,
 * Redis key prefix and blob directory, plus tenants with keys and a request helper.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type ArtifactRow, createApiKey, createTenant, type Db, upsertArtifact } from '@conveyor/db';
import { createTestDatabase, type TestDatabase } from '@conveyor/db/testing';
import { createProducer, type Producer } from '@conveyor/queue';
import { deletePrefix, testPrefix } from '@conveyor/queue/testing';
import { createLogger, type JobView, type Logger, type Problem, SCOPES, type Scope } from '@conveyor/shared';
import { artifactKey, type BlobStore, createLocalDiskStore } from '@conveyor/storage';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { type App, createApp } from './app';
import type { AppDeps } from './deps';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** A blob store in a fresh temporary directory; the caller removes `dir`. */
function createTestStore() {
  const dir = mkdtempSync(join(tmpdir(), 'cvt-api-storage-'));
  return { dir, store: createLocalDiskStore(dir) };
}

/** Every file below `dir` (temporary ones included), as sorted paths relative to it; [] when it is missing. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const walk = (at: string): string[] =>
    readdirSync(at, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(at, entry.name)) : [relative(dir, join(at, entry.name))],
    );
  return walk(dir).sort();
}

export interface CallInit {
  /** A JSON body: a string is sent as it is, anything else as JSON; Content-Type defaults to application/json. */
  body?: unknown;
  /** A body sent as it is (bytes, text or a stream), with no Content-Type unless `headers` names one. */
  raw?: Uint8Array | string | ReadableStream<Uint8Array>;
  /** Added last, so they override the defaults (an empty `authorization` is sent as it is). */
  headers?: Record<string, string>;
  /** The API key to send as Bearer (a tenant's `call` sends its own by default); null sends none. */
  key?: string | null;
  /** Another app than the file's own (one built with other limits). */
  app?: App;
}

/** One request to `app` with a Bearer key, a JSON or raw body, and extra headers. */
export async function send(app: App, method: string, path: string, init: CallInit = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  let body: Uint8Array | string | ReadableStream<Uint8Array> | undefined = init.raw;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  // A stream goes out without Content-Length, chunk by chunk; fetch requires half duplex for that.
  const duplex = body instanceof ReadableStream ? { duplex: 'half' } : {};
  return (init.app ?? app).request(path, {
    method,
    headers: { ...headers, ...init.headers },
    ...(body === undefined ? {} : { body }),
    ...duplex,
  } as RequestInit);
}

/** `content` as a body without Content-Length, in chunks of `chunkBytes`, the way a chunked upload arrives. */
export function chunked(content: string | Uint8Array, chunkBytes = 64): ReadableStream<Uint8Array> {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

/** A problem+json body without its per-request id (checked against X-Request-Id), for comparing answers. */
export async function problemWithoutRequestId(res: Response): Promise<Omit<Problem, 'requestId'>> {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const { requestId, ...rest } = (await res.json()) as Problem;
  expect(requestId).toBe(res.headers.get('x-request-id'));
  return rest;
}

export interface TestTenant {
  tenantId: string;
  /** An API key of the tenant, with the scopes asked for (all by default). */
  key: string;
  /** A request as this tenant (its key unless `init.key` says otherwise). */
  call(method: string, path: string, init?: CallInit): Promise<Response>;
  /** POST /v1/jobs as this tenant; expects 202 and answers the job. */
  submit(body?: unknown): Promise<JobView>;
}

export interface ArtifactInit {
  /** The job it belongs to; default: a new `noop` job submitted through the API. */
  jobId?: string;
  content: Uint8Array;
  /** Default `artifact.bin`. */
  name?: string;
  /** Default `application/octet-stream`. */
  contentType?: string;
  metadata?: Record<string, unknown>;
  /** Default: an hour from now. */
  expiresAt?: Date;
}

/** Dependencies of the app under test that a file may set; the rest come from the fixture. */
export type TestAppOptions = Omit<AppDeps, 'db' | 'producer' | 'log' | 'store'>;

export interface TestApp {
  readonly app: App;
  /** The file's own migrated database. */
  readonly db: Db;
  readonly producer: Producer;
  /** The file's Redis key prefix (known before the hooks run). */
  readonly prefix: string;
  readonly store: BlobStore;
  /** The directory behind `store`; removed after the file. */
  readonly storageDir: string;
  readonly log: Logger;
  /** The file's default tenant, with every scope. */
  readonly tenant: TestTenant;
  /** Another app on the same database, producer and store, with some dependencies replaced. */
  build(overrides?: Partial<AppDeps>): App;
  /** A request to the file's app; no API key unless `init.key` names one. */
  call(method: string, path: string, init?: CallInit): Promise<Response>;
  /** A new tenant with one key; each test that counts rows takes a tenant of its own. */
  newTenant(scopes?: readonly Scope[], name?: string): Promise<TestTenant>;
  /** An artifact of `t` made the way the worker makes one: a blob under artifactKey, then upsertArtifact. */
  newArtifact(t: TestTenant, init: ArtifactInit): Promise<{ jobId: string; row: ArtifactRow }>;
  /** Another key for an existing tenant. */
  newKey(tenantId: string, scopes?: readonly Scope[]): Promise<{ key: string; id: string }>;
}

/**
 * Registers beforeAll/afterAll for one test file: a fresh database, a producer under a test prefix, a blob
 * store in a temporary directory and `createApp` over them (auth cache off unless `options` sets it).
 * Accessors throw if used before beforeAll has run.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  const prefix = testPrefix();
  const log = createLogger({ name: 'test', level: 'silent' });
  const { dir, store } = createTestStore();
  let database: TestDatabase | undefined;
  let producer: Producer | undefined;
  let app: App | undefined;
  let tenant: TestTenant | undefined;

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useTestApp: ${what} is used before beforeAll ran`);
    return value;
  };
  const build = (overrides: Partial<AppDeps> = {}) =>
    createApp({
      db: ready(database, 'db').db,
      producer: ready(producer, 'producer'),
      log,
      store,
      authCacheTtlMs: 0,
      ...options,
      ...overrides,
    });

  const fixture: TestApp = {
    get app() {
      return ready(app, 'app');
    },
    get db() {
      return ready(database, 'db').db;
    },
    get producer() {
      return ready(producer, 'producer');
    },
    get tenant() {
      return ready(tenant, 'tenant');
    },
    prefix,
    store,
    storageDir: dir,
    log,
    build,
    call: (method, path, init) => send(fixture.app, method, path, init),
    async newKey(tenantId, scopes = SCOPES) {
      const { key, row } = await createApiKey(fixture.db, { tenantId, scopes: [...scopes] });
      return { key, id: row.id };
    },
    async newTenant(scopes = SCOPES, name = 'test-tenant') {
      const { id: tenantId } = await createTenant(fixture.db, name);
      const { key } = await fixture.newKey(tenantId, scopes);
      const call = (method: string, path: string, init: CallInit = {}) =>
        send(fixture.app, method, path, { ...init, key: init.key === undefined ? key : init.key });
      const submit = async (body: unknown = { type: 'noop' }) => {
        const res = await call('POST', '/v1/jobs', { body });
        expect(res.status, await res.clone().text()).toBe(202);
        return (await res.json()) as JobView;
      };
      return { tenantId, key, call, submit };
    },
    async newArtifact(t, init) {
      const jobId = init.jobId ?? (await t.submit()).id;
      const storageKey = artifactKey(t.tenantId, jobId);
      const blob = await store.put(storageKey, init.content);
      const { row } = await upsertArtifact(fixture.db, {
        tenantId: t.tenantId,
        jobId,
        name: init.name ?? 'artifact.bin',
        contentType: init.contentType ?? 'application/octet-stream',
        bytes: blob.bytes,
        sha256: blob.sha256,
        storageKey,
        metadata: init.metadata ?? {},
        expiresAt: init.expiresAt ?? new Date(Date.now() + 3_600_000),
      });
      return { jobId, row };
    },
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    producer = createProducer({ redisUrl: REDIS_URL, prefix });
    app = build();
    const redis = producer.redis;
    await vi.waitUntil(() => redis.status === 'ready', { timeout: 5_000 });
    tenant = await fixture.newTenant();
  });

  afterAll(async () => {
    await producer?.close();
    await deletePrefix(REDIS_URL, prefix);
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  return fixture;
}
