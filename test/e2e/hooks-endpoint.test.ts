/** POST /hooks/{token} through the real server: every answer of PRODUCT.md section 2's table. */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'

import { encodeRequest, sendRaw } from '../support/raw-http.ts'
import { commandService, startTestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

test('a call is answered 202 only once committed, and its deployment runs to succeeded', async (t) => {
  const server = await startTestServer(t)
  assert.equal(
    (
      await server.api(
        'POST',
        '/api/v1/services',
        commandService('web', 'echo "hello from $DECKHAND_TRIGGER_NAME"'),
      )
    ).status,
    201,
  )
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    name: 'ci',
  })
  assert.equal(created.status, 201)
  assert.match(created.body.url, /\/hooks\/[A-Za-z0-9_-]{43}$/)
  const call = await server.hook(`${created.body.url}?tag=v2`, {
    body: '{"x":1}',
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(call.status, 202)
  assert.equal(call.body.status, 'queued')
  const [deployment] = call.body.deployments
  assert.equal(deployment.service, 'web')
  assert.equal(deployment.coalesced, false)
  const recorded = await server.api('GET', `/api/v1/deployments/${deployment.id}`)
  assert.equal(recorded.status, 200)
  const done = await waitFor(
    async () => {
      const d = await server.api('GET', `/api/v1/deployments/${deployment.id}`)
      return d.body.state === 'succeeded' ? d.body : undefined
    },
    { what: 'the deployment to succeed' },
  )
  assert.equal(done.params.tag, 'v2')
  const log = await server.api('GET', `/api/v1/deployments/${deployment.id}/log`)
  assert.ok(
    log.body.items.some((l: { line: string }) => l.line === 'hello from ci'),
    JSON.stringify(log.body.items),
  )
  const listing = await server.api('GET', '/api/v1/services/web/triggers')
  assert.equal(JSON.stringify(listing.body).includes(created.body.url.split('/hooks/')[1]), false)
  assert.equal('url' in listing.body.items[0], false)
})

test('?wait= answers 200 when the deployment succeeds, 500 when it fails, 202 when the wait runs out', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('ok'))
  await server.api('POST', '/api/v1/services', commandService('bad', 'echo broken >&2; exit 3'))
  await server.api('POST', '/api/v1/services', commandService('slow', 'sleep 5'))
  const url = async (name: string) =>
    (await server.api('POST', `/api/v1/services/${name}/triggers`, { action: 'redeploy' })).body.url
  const ok = await server.hook(`${await url('ok')}?wait=30s`)
  assert.equal(ok.status, 200)
  assert.equal(ok.body.status, 'succeeded')
  assert.equal(ok.body.deployments[0].state, 'succeeded')
  const bad = await server.hook(`${await url('bad')}?wait=30s`)
  assert.equal(bad.status, 500)
  assert.equal(bad.body.status, 'failed')
  assert.match(bad.body.deployments[0].error, /exit/)
  const slow = await server.hook(`${await url('slow')}?wait=200ms`)
  assert.equal(slow.status, 202)
  assert.equal(slow.body.status, 'queued')
})

test('unknown and revoked tokens get byte-identical 404s, and other methods 405', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  assert.equal((await server.api('DELETE', `/api/v1/triggers/${created.body.id}`)).status, 204)
  const revoked = await fetch(created.body.url, { method: 'POST' })
  const unknown = await fetch(`${server.url}/hooks/${'A'.repeat(43)}`, { method: 'POST' })
  const malformed = await fetch(`${server.url}/hooks/short`, { method: 'POST' })
  const bodies = await Promise.all([revoked, unknown, malformed].map((r) => r.text()))
  assert.deepEqual([revoked.status, unknown.status, malformed.status], [404, 404, 404])
  assert.equal(bodies[0], '{"error":"not found","code":"DH_ERR_HOOK_NOT_FOUND"}')
  assert.equal(bodies[1], bodies[0])
  assert.equal(bodies[2], bodies[0])
  const strip = (h: Headers) => [...h.entries()].filter(([k]) => k !== 'date').sort()
  assert.deepEqual(strip(revoked.headers), strip(unknown.headers))
  const get = await fetch(created.body.url, { method: 'GET' })
  assert.equal(get.status, 405)
  assert.equal(get.headers.get('allow'), 'POST')
})

test('a rotated trigger works at its new URL and is dead at the old one at once', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  const rotated = await server.api('POST', `/api/v1/triggers/${created.body.id}/rotate`)
  assert.notEqual(rotated.body.url, created.body.url)
  assert.equal((await server.hook(created.body.url)).status, 404)
  assert.equal((await server.hook(rotated.body.url)).status, 202)
})

test('a second live trigger of the same name on one owner is a 409 DH_ERR_TRIGGER_NAME_TAKEN; a revoked one frees the name', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const first = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    name: 'hub',
  })
  assert.equal(first.status, 201)
  const twice = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    name: 'hub',
  })
  assert.equal(twice.status, 409)
  assert.equal(twice.body.code, 'DH_ERR_TRIGGER_NAME_TAKEN')
  assert.match(twice.body.error, /service web already has a trigger named hub/)
  assert.equal(
    (await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy', name: 'ci' }))
      .status,
    201,
  )
  assert.equal((await server.api('DELETE', `/api/v1/triggers/${first.body.id}`)).status, 204)
  assert.equal(
    (await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy', name: 'hub' }))
      .status,
    201,
  )
})

test('a trigger with a secret answers 401 to a missing or wrong signature and records the call', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    secret: 'shh-its-secret',
  })
  const body = '{"ref":"main"}'
  const sign = (secret: string) =>
    `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
  assert.equal((await server.hook(created.body.url, { body })).status, 401)
  assert.equal(
    (
      await server.hook(created.body.url, {
        body,
        headers: { 'x-deckhand-signature': sign('wrong') },
      })
    ).status,
    401,
  )
  const good = await server.hook(created.body.url, {
    body,
    headers: { 'x-deckhand-signature': sign('shh-its-secret') },
  })
  assert.equal(good.status, 202)
  const calls = await server.api('GET', `/api/v1/calls?trigger=${created.body.id}`)
  assert.deepEqual(
    calls.body.items.map((c: { status: number }) => c.status),
    [202, 401, 401],
  )
  assert.equal(calls.body.items[2].outcome, 'rejected')
  assert.equal(
    JSON.stringify(await server.api('GET', `/api/v1/triggers/${created.body.id}`)).includes(
      'shh-its-secret',
    ),
    false,
  )
})

test('a pinned sender answers 400 to a body that is not its format', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    sender: 'dockerhub',
  })
  const answer = await server.hook(created.body.url, {
    body: 'not json',
    headers: { 'content-type': 'text/plain' },
  })
  assert.equal(answer.status, 400)
  assert.match(answer.body.error, /.+/)
  assert.equal((await server.api('GET', '/api/v1/deployments')).body.items.length, 0)
})

test('allowIps answers 403 to other addresses, and X-Forwarded-For counts only from a trusted proxy', async (t) => {
  const server = await startTestServer(t, { trustedProxies: ['127.0.0.1'] })
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    allowIps: ['203.0.113.0/24'],
  })
  assert.equal((await server.hook(created.body.url)).status, 403)
  assert.equal(
    (await server.hook(created.body.url, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status,
    202,
  )
  const untrusting = await startTestServer(t)
  await untrusting.api('POST', '/api/v1/services', commandService('web'))
  const other = await untrusting.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    allowIps: ['203.0.113.0/24'],
  })
  assert.equal(
    (await untrusting.hook(other.body.url, { headers: { 'x-forwarded-for': '203.0.113.9' } }))
      .status,
    403,
  )
})

test('a body over the limit gets 413 and changes nothing', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  const answer = await server.hook(created.body.url, {
    body: Buffer.alloc(1024 * 1024 + 1, 97),
    headers: { 'content-type': 'application/octet-stream' },
  })
  assert.equal(answer.status, 413)
  assert.equal((await server.api('GET', '/api/v1/deployments')).body.items.length, 0)
})

test('the trigger rate limit answers 429 with Retry-After; unknown tokens from one address are limited too', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    rateLimit: '3/min',
  })
  const statuses = []
  for (let i = 0; i < 4; i += 1) {
    statuses.push((await server.hook(created.body.url)).status)
  }
  assert.deepEqual(statuses.slice(0, 3), [202, 202, 202])
  const limited = await server.hook(created.body.url)
  assert.equal(limited.status, 429)
  assert.ok(Number(limited.headers.get('retry-after')) >= 1)
  let brute = 0
  for (let i = 0; i < 40; i += 1) {
    brute = (await fetch(`${server.url}/hooks/${String(i).padStart(43, 'x')}`, { method: 'POST' }))
      .status
  }
  assert.equal(brute, 429)
  const fresh = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    name: 'fresh',
  })
  assert.equal(
    (await server.hook(fresh.body.url)).status,
    202,
    'a valid call is never limited by address',
  )
})

test('a call at the scale bound is answered 200 ignored with the reason', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web', 'true', { replicas: 3 }))
  const created = await server.api('POST', '/api/v1/services/web/triggers', { action: 'scale-up' })
  const answer = await server.hook(created.body.url)
  assert.equal(answer.status, 200)
  assert.equal(answer.body.status, 'ignored')
  assert.match(answer.body.reason, /scale\.max \(3\)/)
  const calls = await server.api('GET', `/api/v1/calls?trigger=${created.body.id}&outcome=ignored`)
  assert.equal(calls.body.items.length, 1)
})

test('envFromQuery passes only allow-listed variables, and GET /hooks/{token}/deployments/{id} shows the state', async (t) => {
  const server = await startTestServer(t)
  await server.api(
    'POST',
    '/api/v1/services',
    commandService(
      'web',
      'echo "tag=$SERVICE_TAG other=${OTHER:-unset} body=$DECKHAND_TRIGGER_BODY"',
    ),
  )
  const created = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    envFromQuery: ['SERVICE_TAG'],
  })
  const answer = await server.hook(`${created.body.url}?SERVICE_TAG=development&OTHER=x&wait=30s`, {
    body: 'payload',
  })
  assert.equal(answer.status, 200)
  const id = answer.body.deployments[0].id
  const log = await server.api('GET', `/api/v1/deployments/${id}/log`)
  assert.ok(
    log.body.items.some(
      (l: { line: string }) => l.line === 'tag=development other=unset body=payload',
    ),
  )
  const state = await fetch(`${created.body.url}/deployments/${id}`)
  assert.equal(state.status, 200)
  assert.equal((await state.json()).state, 'succeeded')
  assert.equal((await fetch(`${server.url}/hooks/${'B'.repeat(43)}/deployments/${id}`)).status, 404)
})

test('stack triggers deploy every member or the ?services= subset, and name unknown ones with 400', async (t) => {
  const server = await startTestServer(t)
  for (const name of ['api', 'web', 'worker']) {
    await server.api('POST', '/api/v1/services', commandService(name))
  }
  assert.equal(
    (
      await server.api('POST', '/api/v1/stacks', {
        name: 'shop',
        services: ['api', 'web', 'worker'],
      })
    ).status,
    201,
  )
  const created = await server.api('POST', '/api/v1/stacks/shop/triggers', { action: 'redeploy' })
  const all = await server.hook(created.body.url)
  assert.deepEqual(all.body.deployments.map((d: { service: string }) => d.service).sort(), [
    'api',
    'web',
    'worker',
  ])
  const subset = await server.hook(`${created.body.url}?services=web`)
  assert.deepEqual(
    subset.body.deployments.map((d: { service: string }) => d.service),
    ['web'],
  )
  const unknown = await server.hook(`${created.body.url}?services=web,nope`)
  assert.equal(unknown.status, 400)
  assert.match(unknown.body.error, /nope/)
})

test('a body followed by bytes that do not parse is answered 400 and records nothing (regression)', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web', 'sleep 5'))
  const { url } = (
    await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  ).body
  const body = Buffer.from(
    '{"ref":"refs/heads/main","note":"the second half reads as a garbled request"}',
  )
  // Content-Length declares half the body: the rest arrives in the same packet as a broken request.
  const bytes = encodeRequest({
    method: 'POST',
    path: new URL(url).pathname,
    headers: [
      ['content-type', 'application/json'],
      ['content-length', String(Math.floor(body.length / 2))],
    ],
    body,
  })
  const answer = await sendRaw(bytes, { port: Number(new URL(server.url).port) })
  assert.deepEqual(answer.statuses, [400])
  assert.deepEqual((await server.api('GET', '/api/v1/deployments')).body.items, [])
  assert.deepEqual((await server.api('GET', '/api/v1/calls')).body.items, [])
})

test('a wait, tag or services value that does not parse is a 400 naming it, and queues nothing', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  await server.api('POST', '/api/v1/services', commandService('api'))
  const url = (await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' }))
    .body.url
  const strict = (
    await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
      name: 'no-tags',
      allowTag: false,
    })
  ).body.url
  assert.equal(
    (await server.api('POST', '/api/v1/stacks', { name: 'shop', services: ['web', 'api'] })).status,
    201,
  )
  const stack = (await server.api('POST', '/api/v1/stacks/shop/triggers', { action: 'redeploy' }))
    .body.url
  const refused: [string, RegExp][] = [
    [`${url}?wait=2min`, /\?wait= must be a duration such as 90s, 5m or 1h .*"2min"/],
    [`${url}?wait=true`, /\?wait= must be a duration/],
    [`${url}?wait=forever`, /\?wait= must be a duration/],
    [`${url}?wait=2h`, /\?wait= is at most 30m/],
    [`${url}?tag=v1%00x`, /\?tag= must be an image tag/],
    [`${url}?tag=${'a'.repeat(129)}`, /\?tag= must be an image tag/],
    [`${url}?tag=-rc`, /\?tag= must be an image tag/],
    [`${strict}?tag=v2`, /\?tag= is not taken by this trigger \(its allowTag is false\)/],
    [`${url}?services=api`, /\?services= applies to stack triggers only/],
    [`${stack}?services=web;rm`, /\?services= must be a comma list of service names/],
  ]
  for (const [target, reason] of refused) {
    const answer = await server.hook(target)
    assert.equal(answer.status, 400, `${target}: ${JSON.stringify(answer.body)}`)
    assert.match(answer.body.error, reason)
  }
  const deployments = await server.api('GET', '/api/v1/deployments')
  assert.deepEqual(deployments.body.items, [], 'a refused call queues nothing')
  const accepted = await server.hook(`${url}?wait=30m&tag=v2`)
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body))
})
