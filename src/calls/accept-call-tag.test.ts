/**
 * A `?tag=` is never dropped without a word: a service whose driver cannot change image tags
 * (process) refuses it with a 400 naming the parameter, and a stack call deploys the services
 * that can take it with the tag and says in its answer which ones did not.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  commandService,
  startTestServer,
  type TestServer,
} from '../../test/support/start-server.ts'

// No replicas: the service exists on the process driver without starting anything.
const processService = (name: string) => ({
  name,
  driver: 'process',
  target: { command: 'sleep 30', replicas: 0 },
})
const TAGLESS = 'which cannot change image tags'

async function deploymentIds(server: TestServer): Promise<string[]> {
  const items = (await server.api('GET', '/api/v1/deployments?service=web')).body.items
  return items.map((d: { id: string }) => d.id)
}

test('?tag= on a process service answers 400 naming tag and why, and queues nothing', async (t) => {
  const server = await startTestServer(t)
  assert.equal((await server.api('POST', '/api/v1/services', processService('web'))).status, 201)
  const created = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  // Only the service's first start: creating a process service deploys it.
  const before = await deploymentIds(server)

  const answer = await server.hook(`${created.body.url}?tag=v2`)

  assert.equal(answer.status, 400, JSON.stringify(answer.body))
  assert.equal(
    answer.body.error,
    `?tag= cannot be applied: service web runs on the process driver, ${TAGLESS}; drop the parameter`,
  )
  assert.deepEqual(await deploymentIds(server), before)
  const calls = (await server.api('GET', `/api/v1/calls?trigger=${created.body.id}`)).body.items
  const outcomes = calls.map((c: { outcome: string; status: number }) => [c.outcome, c.status])
  assert.deepEqual(outcomes, [['rejected', 400]])
  // Without the parameter the same trigger deploys.
  assert.equal((await server.hook(created.body.url)).status, 202)
})

test('a stack call with ?tag= tags the services that can take it, names the others', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web', 'sleep 5'))
  await server.api('POST', '/api/v1/services', processService('worker'))
  await server.api('POST', '/api/v1/stacks', { name: 'shop', services: ['web', 'worker'] })
  const created = await server.api('POST', '/api/v1/stacks/shop/triggers', { action: 'redeploy' })

  const answer = await server.hook(`${created.body.url}?tag=v2`)

  assert.equal(answer.status, 202, JSON.stringify(answer.body))
  const byService = Object.fromEntries(
    answer.body.deployments.map((d: { service: string; note?: string }) => [
      d.service,
      d.note ?? null,
    ]),
  )
  assert.deepEqual(byService, {
    web: null,
    worker: `?tag= ignored: service worker runs on the process driver, ${TAGLESS}`,
  })
  const deployments = (await server.api('GET', '/api/v1/deployments')).body.items
  const params = Object.fromEntries(
    deployments.map((d: { service: string; params: object }) => [d.service, d.params]),
  )
  assert.deepEqual(params, { web: { tag: 'v2' }, worker: {} })
})

test('an API deployment with a tag on a process service is a 400 naming tag', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', processService('web'))
  const before = await deploymentIds(server)

  const deploy = (body: object) => server.api('POST', '/api/v1/services/web/deployments', body)
  const answer = await deploy({ action: 'redeploy', tag: 'v2' })

  assert.equal(answer.status, 400, JSON.stringify(answer.body))
  assert.match(answer.body.error, /^tag cannot be applied: service web runs on the process driver/)
  assert.deepEqual(await deploymentIds(server), before)
  assert.equal((await deploy({ action: 'redeploy' })).status, 202)
})
