// The OpenAPI document: every registered route appears, described by the schemas that validate it.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { FastifyInstance } from 'fastify'

import { startTestServer } from '../../test/support/start-server.ts'
import { SENDER_IDS } from '../model/index.ts'
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
  const document = (await response.json()) as {
    openapi: string
    paths: Record<string, Record<string, any>>
  }
  assert.equal(document.openapi, '3.1.0')
  const described = new Set(
    Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    ),
  )
  const missing = registered
    .filter(
      (r) => r.method !== 'head' && ['get', 'post', 'put', 'patch', 'delete'].includes(r.method),
    )
    .map((r) => `${r.method} ${openApiPath(r.url)}`)
    .filter((key) => !described.has(key))
  assert.deepEqual(missing, [])
  for (const route of [
    'get /api/v1/services',
    'post /api/v1/services/{name}/triggers',
    'post /api/v1/triggers/{id}/rotate',
    'get /api/v1/deployments/{id}/log',
    'delete /api/v1/tokens/{id}',
    'get /api/v1/calls',
    'get /metrics',
  ]) {
    assert.ok(described.has(route), `${route} is described`)
  }
})

test('request schemas are the ones that validate requests, shared as components', async (t) => {
  const server = await startTestServer(t)
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as any
  const create = document.paths['/api/v1/services'].post
  assert.deepEqual(create.requestBody.content['application/json'].schema, {
    $ref: '#/components/schemas/Service',
  })
  assert.deepEqual(document.components.schemas.Service.properties.driver.enum, [
    'process',
    'command',
    'docker',
    'swarm',
    'kubernetes',
  ])
  assert.match(
    document.components.schemas.Service.properties.deploy.properties.settle.description,
    /HEALTHCHECK.*default 2s/,
  )
  assert.deepEqual(create.security, [{ adminToken: [] }])
  const list = document.paths['/api/v1/deployments'].get
  assert.deepEqual(
    list.parameters.map((p: any) => [p.name, p.in]),
    [
      ['limit', 'query'],
      ['cursor', 'query'],
      ['service', 'query'],
      ['state', 'query'],
    ],
  )
  assert.equal(document.paths['/healthz'].get.security, undefined)
  const answer =
    document.paths['/api/v1/deployments/{id}'].get.responses['200'].content['application/json']
  assert.deepEqual(answer.schema, { $ref: '#/components/schemas/DeploymentDetail' })
  const deployment = document.components.schemas.DeploymentDetail
  assert.deepEqual(Object.keys(deployment.properties.tried.properties), ['target', 'image', 'tag'])
})

test('paths use OpenAPI templates and HEAD twins of GET routes are not repeated', () => {
  assert.equal(openApiPath('/api/v1/services/:name/triggers'), '/api/v1/services/{name}/triggers')
  assert.equal(openApiPath('/assets/*'), '/assets/{wildcard}')
  const document = buildOpenApiDocument([
    { method: 'get', url: '/x/:id', schema: undefined },
    { method: 'head', url: '/x/:id', schema: undefined },
  ]) as { paths: Record<string, Record<string, { parameters: unknown[] }>> }
  assert.deepEqual(Object.keys(document.paths['/x/{id}']!), ['get'])
  assert.deepEqual(document.paths['/x/{id}']!.get!.parameters, [
    { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
  ])
})

test('GET /api/v1/drivers names only the drivers DECKHAND_DRIVERS enables, and is documented', async (t) => {
  const server = await startTestServer(t, { env: { DECKHAND_DRIVERS: 'process,command' } })
  const answer = await server.api('GET', '/api/v1/drivers')
  assert.equal(answer.status, 200)
  assert.deepEqual(answer.body.items.map((d: { name: string }) => d.name).sort(), [
    'command',
    'process',
  ])
  assert.equal(answer.body.items.find((d: any) => d.name === 'process').capabilities.canScale, true)
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as any
  assert.match(document.paths['/api/v1/drivers'].get.description, /DECKHAND_DRIVERS/)
  assert.match(
    document.paths['/api/v1/services/{name}'].get.description,
    /`pid`.*`container`.*`startedAt`/,
  )
})

test('a value outside a closed list is refused naming the field and every allowed value', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'command',
    target: { redeploy: 'true' },
  })
  const sender = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    sender: 'nope',
  })
  assert.equal(sender.status, 400)
  assert.equal(
    sender.body.error,
    `invalid request: body.sender must be one of ${SENDER_IDS.join(', ')}`,
  )
  const action = await server.api('POST', '/api/v1/services/web/triggers', { action: 'nope' })
  assert.match(
    action.body.error,
    /^invalid request: body\.action must be one of redeploy, scale-up, scale-down/,
  )
})

test('no route gives Fastify a response schema, whose serializer would drop the fields it lacks', async (t) => {
  const serialized: string[] = []
  const collect = (app: FastifyInstance): void => {
    app.addHook('onRoute', (route) => {
      if ((route.schema as { response?: unknown } | undefined)?.response !== undefined) {
        serialized.push(`${String(route.method)} ${route.url}`)
      }
    })
  }
  await startTestServer(t, { plugins: [collect] })
  assert.deepEqual(serialized, [])
})

test('each release-control route says what it does, its body fields and its 409 cases', async (t) => {
  const server = await startTestServer(t)
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as any
  const routes: [string, string, string[], RegExp][] = [
    ['post', '/api/v1/deployments/{id}/approve', ['note'], /409 when this admin token already/],
    ['post', '/api/v1/deployments/{id}/reject', ['note'], /409 when .* not awaiting approval/],
    ['post', '/api/v1/deployments/{id}/start', ['note'], /409 when the deployment is in any/],
    ['post', '/api/v1/services/{name}/freeze', ['until', 'message'], /there is no 409/],
    ['delete', '/api/v1/services/{name}/freeze', [], /there is no 409/],
    ['get', '/api/v1/services/{name}/watch', [], /no 409/],
  ]
  for (const [method, path, fields, conflicts] of routes) {
    const operation = document.paths[path][method]
    assert.ok(!operation.summary.startsWith(method.toUpperCase()), `${path} has its own summary`)
    assert.match(operation.description, conflicts, `${method} ${path}`)
    for (const field of fields) {
      assert.match(operation.description, new RegExp(`\`${field}\``), `${path} names ${field}`)
    }
    assert.ok(operation.responses['200'].content['application/json'].schema.$ref, path)
  }
})
