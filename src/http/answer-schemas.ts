/**
 * Answer schemas: what a route's success answers look like, for the OpenAPI document only.
 *
 * They live in a route's `schema.answers`, never in `schema.response`: Fastify serializes with
 * `schema.response` (fast-json-stringify), which drops every field the schema does not list and
 * coerces types, so a view that gained a field would lose it on the wire. Here a schema only
 * describes; src/http/openapi.ts reads it, and src/http/openapi-answers.test.ts checks real
 * answers against it with every listed object closed.
 */
type JsonSchema = Readonly<Record<string, unknown>>

/** One documented answer: what it means, and its body (none for a 204). */
export interface Answer {
  description: string
  schema?: JsonSchema
}

declare module 'fastify' {
  interface FastifySchema {
    /** Shown in the OpenAPI document: one line. */
    summary?: string
    /** Shown in the OpenAPI document: what the route does, its 409 cases, its body fields. */
    description?: string
    /** The success answers by status, for the OpenAPI document (see above). */
    answers?: Readonly<Record<number, Answer>>
  }
}

/** A page of a listing: `{items, next}`, `next` the cursor of the following page or null. */
export function pageOf(item: JsonSchema & { $id: string }): JsonSchema {
  return {
    $id: `${item.$id}Page`,
    type: 'object',
    required: ['items', 'next'],
    properties: {
      items: { type: 'array', items: item },
      next: {
        type: ['string', 'null'],
        description: 'pass as ?cursor= for the following page; null on the last',
      },
    },
  }
}

/** A shape that is `base` and more: its own `$id`, the base's fields and `extra`. */
export function extend(
  base: JsonSchema & { properties: JsonSchema },
  $id: string,
  description: string,
  extra: JsonSchema,
): JsonSchema & { properties: JsonSchema } {
  return { ...base, $id, description, properties: { ...base.properties, ...extra } }
}

/** A shape that shows some of `base`'s fields, as `base` describes them. */
export function pick(
  base: JsonSchema & { properties: JsonSchema },
  $id: string,
  description: string,
  names: readonly string[],
): JsonSchema {
  const properties = Object.fromEntries(names.map((name) => [name, base.properties[name]]))
  return { type: 'object', $id, description, required: names, properties }
}
