/**
 * Checks that hold for calls accepted in the same turn. A scale trigger's cooldown: an
 * Alertmanager pair sends each notification from both members. A delivery id: a sender may
 * redeliver while the first delivery is still being accepted. Both used to be read before the
 * commit, so calls accepted together each saw no earlier call.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { FIXTURE_SECRET, readFixture } from '../../test/fixtures/senders/load.ts'
import { commandService, startTestServer } from '../../test/support/start-server.ts'
import { CallAcceptor } from './accept-call.ts'

test('calls of a scale trigger accepted in the same turn step once within the cooldown', async (t) => {
  const server = await startTestServer(t)
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'echo ok', { scale: { min: 1, max: 9 } }),
  )
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'scale-up',
    sender: 'alertmanager',
    secret: FIXTURE_SECRET,
    cooldown: '60s',
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const { body, headers } = readFixture('alertmanager-firing')
  const token = new URL(created.body.url).pathname.split('/').at(-1)!
  const acceptor = new CallAcceptor(server.store, server.events)
  const call = () =>
    acceptor.accept({
      token,
      address: '127.0.0.1',
      headers: { ...headers, authorization: `Bearer ${FIXTURE_SECRET}` },
      body,
      query: {},
    })

  const answers = await Promise.all([call(), call(), call(), call()])

  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 202])
  const deployments = (await server.api('GET', '/api/v1/deployments?service=web')).body.items
  assert.deepEqual(
    deployments.map((d: { action: string; params: { by?: number } }) => [d.action, d.params.by]),
    [['scale', 1]],
  )
  const calls = (await server.api('GET', `/api/v1/calls?trigger=${created.body.id}`)).body.items
  assert.deepEqual(
    calls.map((c: { outcome: string; reason: string | null }) => c.reason ?? c.outcome).sort(),
    [
      'cooldown: the last scale step was less than 60s ago',
      'cooldown: the last scale step was less than 60s ago',
      'cooldown: the last scale step was less than 60s ago',
      'firing: HighRequestLatency (web-1:8080), HighRequestLatency (web-2:8080)',
    ],
  )
})

test('deliveries with one id accepted in the same turn: the first deploys, the rest answer as it did', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web', 'sleep 5'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  const token = new URL(created.body.url).pathname.split('/').at(-1)!
  const acceptor = new CallAcceptor(server.store, server.events)
  const headers = { 'content-type': 'application/json', 'idempotency-key': 'delivery-7f3a' }
  const call = () =>
    acceptor.accept({
      token,
      address: '127.0.0.1',
      headers,
      body: Buffer.from('{"tag":"v2"}'),
      query: {},
    })

  const answers = await Promise.all([call(), call(), call(), call()])

  for (const answer of answers) {
    assert.deepEqual(
      { status: answer.status, body: answer.body },
      { status: answers[0]!.status, body: answers[0]!.body },
    )
  }
  assert.equal(answers[0]!.status, 202)
  const deployments = (await server.api('GET', '/api/v1/deployments?service=web')).body.items
  assert.deepEqual(
    deployments.map((d: { calls: number }) => d.calls),
    [1],
  )
  const calls = (await server.api('GET', `/api/v1/calls?trigger=${created.body.id}`)).body.items
  assert.deepEqual(calls.map((c: { outcome: string }) => c.outcome).sort(), [
    'duplicate',
    'duplicate',
    'duplicate',
    'queued',
  ])
})
