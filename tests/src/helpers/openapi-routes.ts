import type { App } from '@conveyor/api';
import type { Scope } from '@conveyor/shared';

/** One operation of the served OpenAPI document. */
export interface Operation {
  method: string;
  /** The templated path, e.g. `/v1/jobs/{id}`. */
  path: string;
  /** Path parameters, in order. */
  params: string[];
  /** `api` for tenant keys, `admin` for the admin token, `none` for public routes. */
  auth: 'api' | 'admin' | 'none';
  /** Whether the operation documents a request body. */
  hasBody: boolean;
  /** The media types the request body is documented with. */
  bodyTypes: string[];
  /** Query parameter names the operation documents. */
  query: string[];
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

interface OperationObject {
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, unknown> };
}

/**
 * Every operation of the document the app serves at /openapi.json: suites iterate it, so a route added to the
 * document is covered without touching them.
 */
export async function operationsOf(app: App): Promise<Operation[]> {
  const res = await app.request('/openapi.json');
  const doc = (await res.json()) as { paths: Record<string, Record<string, OperationObject>> };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => {
      const op = item[m]!;
      const scheme = Object.keys(op.security?.[0] ?? {})[0];
      return {
        method: m.toUpperCase(),
        path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1]!),
        auth: scheme === 'adminToken' ? 'admin' : scheme ? 'api' : 'none',
        hasBody: op.requestBody !== undefined,
        bodyTypes: Object.keys(op.requestBody?.content ?? {}),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      } satisfies Operation;
    }),
  );
}

/** The path of `op` with every parameter replaced by `id` (inserted as given: encode it first if needed). */
export const fillPath = (op: Operation, id: string) => op.path.replace(/\{\w+\}/g, id);

/**
 * The scopes that each admit an API-key route (any one suffices): reads need `jobs:read`, everything else
 * `jobs:write`; schedules are written with `schedules:write`, and read with it or with `jobs:read`; webhook
 * settings take `jobs:write` for reads too.
 */
export const neededScopes = (op: Operation): Scope[] => {
  const read = op.method === 'GET';
  if (op.path.startsWith('/v1/schedules'))
    return read ? ['jobs:read', 'schedules:write'] : ['schedules:write'];
  // Webhook settings hold the signing secret: even reading them takes jobs:write (docs/webhooks.md).
  if (op.path.startsWith('/v1/webhook-settings')) return ['jobs:write'];
  return [read ? 'jobs:read' : 'jobs:write'];
};
