import { catalog, jobTypes } from '@conveyor/shared';
import { describe, expect, it } from 'vitest';
import { appWithoutDependencies } from '../page-test-support';
import { buildOpenApiDocument } from './document';

/** Routes are registered without touching their dependencies, so none are needed to list them. */
const app = appWithoutDependencies();
const doc = buildOpenApiDocument() as {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
};

describe('the OpenAPI document', () => {
  it('lists exactly the routes the app answers', () => {
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.endsWith('*'))
        // Bull Board (routes/queue-board.ts) is a UI for operators, not API: never in the document.
        .filter((r) => !r.path.startsWith('/admin/queues'))
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}').replace(/\/$/, '') || '/'}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect([...documented].sort()).toEqual([...served].sort());
  });

  it('is OpenAPI 3.1 and carries every job kind’s payload and result schema from the catalog', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const type of jobTypes) {
      const name = type.replace(/\W/g, '_');
      const submit = doc.components.schemas[`Submit_${name}`] as {
        properties: Record<string, { const?: string }>;
      };
      expect(submit.properties.type?.const).toBe(type);
      expect(submit.properties.payload).toBeDefined();
      expect(doc.components.schemas[`Result_${name}`]).toBeDefined();
      expect(catalog[type]).toBeDefined();
    }
  });

  it('documents 429 and the RateLimit headers on every API-key route', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops) as [
        string,
        { security?: { apiKey?: unknown }[]; responses: Record<string, { headers?: object }> },
      ][]) {
        if (!op.security?.some((s) => 'apiKey' in s)) continue;
        expect(op.responses['429'], `${method} ${path}`).toBeDefined();
        const ok = Object.entries(op.responses).find(([s]) => Number(s) < 300)?.[1];
        expect(Object.keys(ok?.headers ?? {}), `${method} ${path}`).toContain('RateLimit');
      }
    }
  });

  it('documents problem+json for errors on every operation', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!path.startsWith('/v1')) continue;
        const responses = (op as { responses: Record<string, { content?: Record<string, unknown> }> })
          .responses;
        const errorStatuses = Object.keys(responses).filter((s) => Number(s) >= 400 && s !== '416');
        expect(errorStatuses.length, `${method} ${path}`).toBeGreaterThan(0);
        for (const s of errorStatuses)
          expect(responses[s]?.content?.['application/problem+json'], `${method} ${path} ${s}`).toBeDefined();
      }
    }
  });
});
