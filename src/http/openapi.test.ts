// The OpenAPI document: every registered route appears, described by the schemas that validate it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { startTestServer } from '../../test/support/start-server.ts'
import { buildOpenApiDocument, openApiPath } from './openapi.ts'

test('every route the server registers appears in /api/openapi.json', async (t) => {
  const registered: { method: string; url: string }[] = []
  const collect = (app: FastifyInstance): void => {
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        registered.push({ method: method.toLowerCase(), url: route.url })
      }
    })
  }
  const server = await startTestServer(t, { plugins: [collect] })
  const response = await fetch(`${server.url}/api/openapi.json`)
  assert.equal(response.status, 200)
  const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, any>> }
  assert.equal(document.openapi, '3.1.0')
  const described = new Set(Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)))
  const missing = registered
    .filter((r) => r.method !== 'head' && ['get', 'post', 'put', 'patch', 'delete'].includes(r.method))
    .map((r) => `${r.method} ${openApiPath(r.url)}`)
    .filter((key) => !described.has(key))
  assert.deepEqual(missing, [])
  for (const route of ['get /api/v1/services', 'post /api/v1/services/{name}/triggers', 'post /api/v1/triggers/{id}/rotate',
    'get /api/v1/deployments/{id}/log', 'delete /api/v1/tokens/{id}', 'get /api/v1/calls', 'get /metrics']) {
    assert.ok(described.has(route), `${route} is described`)
  }
})

test('request schemas are the ones that validate requests, shared as components', async (t) => {
  const server = await startTestServer(t)
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as any
  const create = document.paths['/api/v1/services'].post
  assert.deepEqual(create.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/Service' })
  assert.deepEqual(document.components.schemas.Service.properties.driver.enum, ['process', 'command', 'docker', 'swarm', 'kubernetes'])
  assert.match(document.components.schemas.Service.properties.deploy.properties.settle.description, /HEALTHCHECK.*default 2s/)
  assert.deepEqual(create.security, [{ adminToken: [] }])
  const list = document.paths['/api/v1/deployments'].get
  assert.deepEqual(list.parameters.map((p: any) => [p.name, p.in]), [['limit', 'query'], ['cursor', 'query'], ['service', 'query'], ['state', 'query']])
  assert.equal(document.paths['/healthz'].get.security, undefined)
})

test('paths use OpenAPI templates and HEAD twins of GET routes are not repeated', () => {
  assert.equal(openApiPath('/api/v1/services/:name/triggers'), '/api/v1/services/{name}/triggers')
  assert.equal(openApiPath('/assets/*'), '/assets/{wildcard}')
  const document = buildOpenApiDocument([
    { method: 'get', url: '/x/:id', schema: undefined },
    { method: 'head', url: '/x/:id', schema: undefined },
  ]) as { paths: Record<string, Record<string, { parameters: unknown[] }>> }
  assert.deepEqual(Object.keys(document.paths['/x/{id}']!), ['get'])
  assert.deepEqual(document.paths['/x/{id}']!.get!.parameters, [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }])
})
