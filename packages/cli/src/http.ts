import { errorFromResponse } from '@conveyor/client';

/**
 * The calls the typed client (@conveyor/client) does not make: the admin API and GET /v1/queues. Errors are
 * the client's ConveyorError, so the CLI reports every failure the same way.
 */
export interface Http {
  /** `method path` with `token` as Bearer; the parsed JSON body, or null for 204. Throws ConveyorError. */
  json<T>(method: string, path: string, token: string, body?: unknown): Promise<T | null>;
}

export function createHttp(baseUrl: string, doFetch: typeof fetch = globalThis.fetch): Http {
  return {
    async json<T>(method: string, path: string, token: string, body?: unknown) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
      if (!res.ok) throw await errorFromResponse(res);
      return res.status === 204 ? null : ((await res.json()) as T);
    },
  };
}
