/** Queue, coalescing and the admin API's deployment verbs through the real server. */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'

import { ADMIN_TOKEN, commandService, startTestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const finalState = async (server: Awaited<ReturnType<typeof startTestServer>>, id: string) =>
  waitFor(
    async () => {
      const d = (await server.api('GET', `/api/v1/deployments/${id}`)).body
      return ['succeeded', 'failed', 'canceled'].includes(d.state) ? d : undefined
    },
    { timeoutMs: 20_000, what: `deployment ${id} to end` },
  )

test('200 concurrent calls to one trigger become at most 2 deployments, each call counted', async (t) => {
  const server = await startTestServer(t)
  // The first deployment holds until the burst is answered, so the burst cannot outlast it.
  const gate = join(server.dataDir, 'burst-answered')
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', `while [ ! -f ${gate} ]; do sleep 0.05; done`),
  )
  const { url } = (
    await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
      rateLimit: '10000/min',
    })
  ).body
  const answers = await Promise.all(Array.from({ length: 200 }, () => server.hook(url)))
  writeFileSync(gate, '')
  assert.ok(
    answers.every((a) => a.status === 202),
    JSON.stringify(answers.find((a) => a.status !== 202)),
  )
  const ids = new Set(answers.map((a) => a.body.deployments[0].id))
  assert.ok(ids.size <= 2, `${ids.size} deployments`)
  const deployments = await Promise.all([...ids].map((id) => finalState(server, id)))
  assert.equal(
    deployments.reduce((sum, d) => sum + d.calls, 0),
    200,
  )
  assert.equal((await server.api('GET', '/api/v1/calls?limit=1000')).body.items.length, 200)
})

test('one deployment runs per service at a time, while different services deploy concurrently', async (t) => {
  const server = await startTestServer(t)
  for (const name of ['a', 'b']) {
    await server.api('POST', '/api/v1/services', commandService(name, 'sleep 0.5'))
  }
  await server.api('POST', '/api/v1/services/a/deployments', { action: 'redeploy' })
  await server.api('POST', '/api/v1/services/b/deployments', { action: 'redeploy' })
  await server.api('POST', '/api/v1/services/a/deployments', { action: 'scale', replicas: 2 })
  const running = await waitFor(
    async () => {
      const items = (await server.api('GET', '/api/v1/deployments?state=running')).body.items
      return items.length === 2 ? items : undefined
    },
    { what: 'a and b to run together' },
  )
  assert.deepEqual(running.map((d: { service: string }) => d.service).sort(), ['a', 'b'])
  const all = (await server.api('GET', '/api/v1/deployments?service=a')).body.items
  await Promise.all(all.map((d: { id: string }) => finalState(server, d.id)))
  const finished = (await server.api('GET', '/api/v1/deployments?service=a')).body.items
  const [later, earlier] = finished
  assert.ok(
    Date.parse(later.startedAt) >= Date.parse(earlier.finishedAt),
    'the second deployment of a started after the first ended',
  )
  assert.equal((await server.api('GET', '/api/v1/services/a')).body.replicas, 2)
})

test('a running deployment can be canceled, and a queued one ends at once', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web', 'sleep 30'))
  const first = (
    await server.api('POST', '/api/v1/services/web/deployments', { action: 'redeploy' })
  ).body.deployments[0].id
  await waitFor(
    async () => (await server.api('GET', `/api/v1/deployments/${first}`)).body.state === 'running',
  )
  const second = (
    await server.api('POST', '/api/v1/services/web/deployments', { action: 'redeploy' })
  ).body.deployments[0].id
  assert.equal(
    (await server.api('POST', `/api/v1/deployments/${second}/cancel`)).body.state,
    'canceled',
  )
  const metrics = await (await fetch(`${server.url}/metrics`)).text()
  assert.match(
    metrics,
    /deckhand_deployments_total\{action="redeploy",state="canceled"\} 1/,
    'a queued deployment canceled by hand is counted as it ends',
  )
  await server.api('POST', `/api/v1/deployments/${first}/cancel`)
  const ended = await finalState(server, first)
  assert.equal(ended.state, 'canceled')
})

test('rollback redeploys the tag of the last successful deployment before the current one', async (t) => {
  const server = await startTestServer(t)
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'echo "running $DECKHAND_IMAGE_TAG"'),
  )
  assert.equal((await server.api('POST', '/api/v1/services/web/rollback')).status, 409)
  for (const tag of ['v1', 'v2']) {
    const id = (
      await server.api('POST', '/api/v1/services/web/deployments', { action: 'redeploy', tag })
    ).body.deployments[0].id
    assert.equal((await finalState(server, id)).state, 'succeeded')
  }
  const rollback = await server.api('POST', '/api/v1/services/web/rollback')
  assert.equal(rollback.status, 202)
  const done = await finalState(server, rollback.body.deployments[0].id)
  assert.equal(done.action, 'rollback')
  assert.equal(done.params.tag, 'v1')
  assert.equal((await server.api('GET', '/api/v1/services/web')).body.tag, 'v1')
})

test('a deployment log streams live as Server-Sent Events until it ends', async (t) => {
  const server = await startTestServer(t)
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'for i in 1 2 3; do echo "step $i"; sleep 0.1; done'),
  )
  const id = (await server.api('POST', '/api/v1/services/web/deployments', { action: 'redeploy' }))
    .body.deployments[0].id
  const response = await fetch(`${server.url}/api/v1/deployments/${id}/log?follow=1`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  assert.equal(response.headers.get('content-type'), 'text/event-stream')
  const text = await response.text()
  for (const step of ['step 1', 'step 2', 'step 3']) {
    assert.ok(text.includes(`"line":"${step}"`), text)
  }
  assert.match(text, /event: end\ndata: .*"state":"succeeded"/)
})

test('the admin API refuses a missing or wrong token with 401 and a message to act on', async (t) => {
  const server = await startTestServer(t)
  const missing = await fetch(`${server.url}/api/v1/services`)
  assert.equal(missing.status, 401)
  assert.match((await missing.json()).error, /Authorization: Bearer/)
  const wrong = await fetch(`${server.url}/api/v1/services`, {
    headers: { authorization: 'Bearer nope' },
  })
  assert.equal(wrong.status, 401)
  const created = await server.api('POST', '/api/v1/tokens', { name: 'ci' })
  assert.equal(created.status, 201)
  const listing = await server.api('GET', '/api/v1/tokens')
  assert.equal(JSON.stringify(listing.body).includes(created.body.token), false)
  assert.equal(
    (
      await fetch(`${server.url}/api/v1/services`, {
        headers: { authorization: `Bearer ${created.body.token}` },
      })
    ).status,
    200,
  )
  assert.equal((await server.api('DELETE', `/api/v1/tokens/${created.body.id}`)).status, 204)
  assert.equal(
    (
      await fetch(`${server.url}/api/v1/services`, {
        headers: { authorization: `Bearer ${created.body.token}` },
      })
    ).status,
    401,
  )
})

test('bad service definitions get 400 naming the field, and change nothing', async (t) => {
  const server = await startTestServer(t)
  const bad = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'command',
    target: {},
    deploy: { healthTimeout: 'soon' },
  })
  assert.equal(bad.status, 400)
  assert.match(bad.body.error, /deploy\.healthTimeout/)
  const unknownDriver = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'nomad',
  })
  assert.equal(unknownDriver.status, 400)
  assert.equal((await server.api('GET', '/api/v1/services')).body.items.length, 0)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const before = (await server.api('GET', '/api/v1/services/web')).body
  const patched = await server.api('PATCH', '/api/v1/services/web', {
    deploy: { order: 'weird', pull: 'sometimes' },
  })
  assert.equal(patched.status, 400)
  assert.match(patched.body.error, /deploy\.order.*deploy\.pull/)
  assert.equal((await server.api('GET', '/api/v1/services/web')).body.updatedAt, before.updatedAt)
  assert.equal((await server.api('GET', '/api/v1/services/nope')).status, 404)
})

test('deploy.settle is a duration, not longer than deploy.healthTimeout, and shown as written', async (t) => {
  const server = await startTestServer(t)
  const base = { name: 'web', driver: 'command', target: { redeploy: 'true' } }
  const soon = await server.api('POST', '/api/v1/services', { ...base, deploy: { settle: 'soon' } })
  assert.equal(soon.status, 400)
  assert.match(soon.body.error, /deploy\.settle: must be a duration/)
  const long = await server.api('POST', '/api/v1/services', {
    ...base,
    deploy: { settle: '2m', healthTimeout: '1m' },
  })
  assert.equal(long.status, 400)
  assert.match(
    long.body.error,
    /deploy\.settle: must not be longer than deploy\.healthTimeout \(1m\)/,
  )
  assert.equal((await server.api('GET', '/api/v1/services')).body.items.length, 0)
  const made = await server.api('POST', '/api/v1/services', { ...base, deploy: { settle: '0s' } })
  assert.equal(made.status, 201, JSON.stringify(made.body))
  assert.equal(made.body.deploy.settle, '0ms')
  const unset = await server.api('POST', '/api/v1/services', { ...base, name: 'api' })
  assert.equal(unset.body.deploy.settle, undefined, 'absent: the driver default (2s) applies')
})

test('PATCH takes application/merge-patch+json, the media type of RFC 7396, as it takes application/json', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const patched = await fetch(`${server.url}/api/v1/services/web`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${server.token}`,
      'content-type': 'application/merge-patch+json',
    },
    body: JSON.stringify({ deploy: { healthTimeout: '30s' } }),
  })
  assert.equal(patched.status, 200, await patched.clone().text())
  assert.equal((await patched.json()).deploy.healthTimeout, '30s')
  const broken = await fetch(`${server.url}/api/v1/services/web`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${server.token}`,
      'content-type': 'application/merge-patch+json',
    },
    body: '{"deploy": ',
  })
  assert.equal(broken.status, 400)
})

test('no token or secret appears in any log line the server wrote', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    secret: 'signing-secret-value',
  })
  const token = created.body.url.split('/hooks/')[1]
  await server.hook(created.body.url, { headers: { 'x-deckhand-signature': 'sha256=00' } })
  await server.hook(`${created.body.url}/deployments/nope`)
  await fetch(`${created.body.url}?tag=x`, { method: 'PUT' })
  await server.api('POST', `/api/v1/triggers/${created.body.id}/rotate`)
  await server.close()
  const logs = server.logs.join('')
  assert.ok(logs.includes('/hooks/[redacted]'), 'access log lines are written, redacted')
  for (const secret of [token, 'signing-secret-value', ADMIN_TOKEN]) {
    assert.equal(logs.includes(secret), false, 'a secret reached the log')
  }
})
