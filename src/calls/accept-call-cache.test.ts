/**
 * The hot path reads triggers and services through the store's cache: a token that was just
 * used (so cached) answers 404 on the very next call after a revoke or rotate, and a deleted
 * service's trigger dies with it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { commandService, startTestServer } from '../../test/support/start-server.ts'

test('a revoked token answers 404 on the next call even when the trigger was cached', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web', 'sleep 5'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  assert.equal((await server.hook(created.body.url)).status, 202)
  assert.equal((await server.hook(created.body.url)).status, 202)
  assert.equal((await server.api('DELETE', `/api/v1/triggers/${created.body.id}`)).status, 204)
  assert.equal((await server.hook(created.body.url)).status, 404)
})

test('a rotated token is dead at once even when cached; a deleted service takes its cached trigger along', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web', 'sleep 5'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  assert.equal((await server.hook(created.body.url)).status, 202)
  const rotated = await server.api('POST', `/api/v1/triggers/${created.body.id}/rotate`)
  assert.equal((await server.hook(created.body.url)).status, 404)
  assert.equal((await server.hook(rotated.body.url)).status, 202)
  assert.equal((await server.api('DELETE', '/api/v1/services/web')).status, 204)
  assert.equal((await server.hook(rotated.body.url)).status, 404)
})
