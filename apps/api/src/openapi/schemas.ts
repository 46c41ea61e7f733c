import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

/**
 * Collects zod schemas as OpenAPI 3.1 components (JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
 * Schemas named with `.meta({ id })` keep their name; others take the one given here.
 */
export function createComponentRegistry() {
  const schemas: Record<string, JsonSchema> = {};
  const uri = (id: string) => `#/components/schemas/${id}`;

  function ref(name: string, schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
    const raw = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
    // Local $defs become shared components.
    const json = JSON.parse(
      JSON.stringify(raw).replaceAll('"#/$defs/', '"#/components/schemas/'),
    ) as JsonSchema;
    const { $schema: _ignored, $defs, ...rest } = json as JsonSchema & { $defs?: Record<string, JsonSchema> };
    for (const [id, def] of Object.entries($defs ?? {})) schemas[id] = def;
    if (typeof rest.$ref === 'string' && Object.keys(rest).length === 1) return rest;
    schemas[name] = rest;
    return { $ref: uri(name) };
  }

  return { ref, schemas };
}

/** `limit` and `cursor`, as every keyset-paginated list takes them. */
export const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
  { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'Opaque; from nextCursor.' },
];
