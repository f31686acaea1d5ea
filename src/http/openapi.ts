/**
 * GET /api/openapi.json, generated from the schemas the routes validate with, and the answers
 * they document (`schema.answers`, answer-schemas.ts): an onRoute collector registered before
 * the routes sees every one, so the document cannot miss a route.
 */
import { readFileSync } from 'node:fs'

import type { FastifyInstance, RouteOptions } from 'fastify'

import type { Answer } from './answer-schemas.ts'

const OPENAPI_METHODS = new Set([
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
])

/** A route as collected: enough to describe it. */
interface CollectedRoute {
  method: string
  url: string
  schema: Record<string, unknown> | undefined
}

type JsonObject = Record<string, unknown>

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'a message a person can act on' },
    code: { type: 'string', description: 'stable DH_ERR_* code, see docs/errors.md' },
  },
}

/** Registers the collector and the document route; call before any route is registered. */
export function registerOpenApi(app: FastifyInstance): void {
  const routes: CollectedRoute[] = []
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      routes.push({
        method: method.toLowerCase(),
        url: route.url,
        schema: route.schema as JsonObject | undefined,
      })
    }
  })
  let document: JsonObject | undefined
  app.get(
    '/api/openapi.json',
    { schema: { summary: 'This OpenAPI document', tags: ['meta'] } as JsonObject },
    async () => {
      document ??= buildOpenApiDocument(routes, app.getSchemas() as Record<string, unknown>)
      return document
    },
  )
}

/** Turns collected routes into an OpenAPI 3.1 document (JSON Schema 2020-12 for bodies). */
export function buildOpenApiDocument(
  routes: CollectedRoute[],
  shared: Record<string, unknown> = {},
): JsonObject {
  const components: Record<string, unknown> = { Error: errorSchema }
  for (const [id, schema] of Object.entries(shared)) {
    components[refName(id)] = liftSchemas(schema, components)
  }
  const gets = new Set(routes.filter((r) => r.method === 'get').map((r) => r.url))
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    // Fastify adds a HEAD twin to every GET; describing it again adds nothing.
    if (!OPENAPI_METHODS.has(route.method) || (route.method === 'head' && gets.has(route.url))) {
      continue
    }
    const path = openApiPath(route.url)
    paths[path] ??= {}
    paths[path][route.method] = operation(route, path, components)
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Deckhand',
      version: VERSION,
      description:
        'Turns HTTP calls into deployments. The admin API (/api/v1) takes `Authorization: Bearer <admin token>`.',
    },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: components,
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'an admin token' },
      },
    },
  }
}

/** `/api/v1/services/:name` → `/api/v1/services/{name}`; `/assets/*` → `/assets/{wildcard}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}').replace(/\*$/, '{wildcard}')
}

function operation(
  route: CollectedRoute,
  path: string,
  components: Record<string, unknown>,
): JsonObject {
  const schema = route.schema ?? {}
  const isAdmin = path.startsWith('/api/v1/')
  const parameters: JsonObject[] = []
  const pathSchema = schema.params as JsonObject | undefined
  for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)) {
    const property = (pathSchema?.properties as JsonObject | undefined)?.[name] ?? {
      type: 'string',
    }
    parameters.push({ name, in: 'path', required: true, schema: liftSchemas(property, components) })
  }
  const query = schema.querystring as JsonObject | undefined
  const required = new Set((query?.required as string[] | undefined) ?? [])
  for (const [name, property] of Object.entries(
    (query?.properties as JsonObject | undefined) ?? {},
  )) {
    parameters.push({
      name,
      in: 'query',
      required: required.has(name),
      schema: liftSchemas(property, components),
    })
  }
  const produces = (schema.produces as string[] | undefined)?.[0] ?? 'application/json'
  const responses: JsonObject = {}
  for (const [status, body] of Object.entries((schema.response as JsonObject | undefined) ?? {})) {
    responses[status] = {
      description: String((body as JsonObject).description ?? 'success'),
      content: { [produces]: { schema: liftSchemas(body, components) } },
    }
  }
  // Described only, never serialized with (answer-schemas.ts says why).
  for (const [status, answer] of Object.entries(
    (schema.answers as Record<string, Answer> | undefined) ?? {},
  )) {
    responses[status] = {
      description: answer.description,
      ...(answer.schema
        ? { content: { [produces]: { schema: liftSchemas(answer.schema, components) } } }
        : {}),
    }
  }
  if (Object.keys(responses).length === 0) {
    responses['2XX'] = { description: 'success', content: { [produces]: {} } }
  }
  if (isAdmin) {
    responses['401'] = errorResponse('no admin token, or one the server does not know')
    responses['429'] = errorResponse(
      'too many bad admin tokens from this address; wait Retry-After seconds',
    )
  }
  responses['4XX'] = errorResponse('a caller mistake; the message says what to change')
  return {
    operationId: operationId(route.method, path),
    summary: schema.summary ?? `${route.method.toUpperCase()} ${path}`,
    ...(schema.description ? { description: schema.description } : {}),
    tags: [tagOf(path)],
    ...(parameters.length ? { parameters } : {}),
    ...(schema.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: liftSchemas(schema.body, components) } },
          },
        }
      : {}),
    responses,
    ...(isAdmin ? { security: [{ adminToken: [] }] } : {}),
  }
}

function errorResponse(description: string): JsonObject {
  return {
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  }
}

/** Subschemas with `$id` become components referenced by `$ref`, as do Fastify `Name#` refs. */
function liftSchemas(schema: unknown, components: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) {
    return schema.map((item) => liftSchemas(item, components))
  }
  if (typeof schema !== 'object' || schema === null) {
    return schema
  }
  const { $id, $ref, description, ...rest } = schema as JsonObject
  if (typeof $ref === 'string' && !$ref.startsWith('#/')) {
    return { $ref: `#/components/schemas/${refName($ref)}` }
  }
  const lifted: JsonObject = Object.fromEntries(
    Object.entries(rest).map(([key, value]) => [key, liftSchemas(value, components)]),
  )
  if ($ref !== undefined) {
    lifted.$ref = $ref
  }
  if (description !== undefined) {
    lifted.description = description
  }
  if (typeof $id === 'string') {
    components[refName($id)] = lifted
    return { $ref: `#/components/schemas/${refName($id)}` }
  }
  return lifted
}

const refName = (id: string): string => id.replace(/#.*$/, '').replace(/[^A-Za-z0-9._-]/g, '_')

function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((part) => part && part !== 'api' && part !== 'v1')
    .map((part) =>
      part
        .replace(/[{}]/g, '')
        .replace(/^\w/, (c) => c.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, ''),
    )
  return method + words.join('')
}

function tagOf(path: string): string {
  const parts = path.split('/').filter(Boolean)
  if (parts[0] === 'api' && parts[1] === 'v1') {
    return parts[2] ?? 'api'
  }
  return parts[0] === 'hooks' ? 'hooks' : 'meta'
}
