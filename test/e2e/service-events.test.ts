/** GET /api/v1/services/{name}/events: what the UI's tabs refresh on, and how it is bounded. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MAX_STREAMS } from '../../src/http/api/service-events.ts'
import { readEvents, type ServerEvent } from '../../web/src/sse.ts'
import {
  ADMIN_TOKEN,
  commandService,
  startTestServer,
  type TestServer,
} from '../support/start-server.ts'

/** An open stream: the events read so far, a wait for one that matches, and its end. */
async function openStream(server: TestServer, service: string) {
  const abort = new AbortController()
  const response = await fetch(`${server.url}/api/v1/services/${service}/events`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: abort.signal,
  })
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('content-type'), 'text/event-stream')
  const seen: ServerEvent[] = []
  const waiters: Array<() => void> = []
  const ended = readEvents(response.body!, (event) => {
    seen.push(event)
    waiters.splice(0).forEach((wake) => wake())
  }).catch(() => undefined)
  /** Resolves with the first event (already read or still to come) that `match` accepts. */
  const next = async (match: (e: ServerEvent) => boolean): Promise<ServerEvent> => {
    for (;;) {
      const found = seen.find(match)
      if (found) {
        return found
      }
      await Promise.race([new Promise<void>((wake) => waiters.push(wake)), ended])
      if (!seen.some(match) && (await isSettled(ended))) {
        throw new Error(`the stream ended; it sent ${JSON.stringify(seen)}`)
      }
    }
  }
  await next((e) => e.event === 'ready')
  return { seen, next, ended, close: () => abort.abort() }
}

async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending')
  return (await Promise.race([promise, Promise.resolve(pending)])) !== pending
}

const data = (e: ServerEvent) => JSON.parse(e.data) as Record<string, unknown>

test("a service's event stream names its deployments' states and its triggers, no other service's", async (t) => {
  const server = await startTestServer(t)
  for (const name of ['web', 'api']) {
    const created = await server.api('POST', '/api/v1/services', commandService(name))
    assert.equal(created.status, 201, JSON.stringify(created.body))
  }
  const stream = await openStream(server, 'web')
  t.after(stream.close)
  const other = await server.api('POST', '/api/v1/services/api/deployments', { action: 'redeploy' })
  const mine = await server.api('POST', '/api/v1/services/web/deployments', { action: 'redeploy' })
  const id: string = mine.body.deployments[0].id
  await stream.next((e) => e.event === 'deployment' && data(e).state === 'succeeded')
  const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    name: 'ci',
  })
  await stream.next((e) => e.event === 'trigger' && data(e).revoked === false)
  assert.equal((await server.api('DELETE', `/api/v1/triggers/${trigger.body.id}`)).status, 204)
  await stream.next((e) => e.event === 'trigger' && data(e).revoked === true)
  assert.deepEqual(
    stream.seen.filter((e) => e.event !== 'ready').map((e) => [e.event, data(e)]),
    [
      ['deployment', { id, state: 'queued' }],
      ['deployment', { id, state: 'running' }],
      ['deployment', { id, state: 'succeeded' }],
      ['trigger', { id: trigger.body.id, revoked: false }],
      ['trigger', { id: trigger.body.id, revoked: true }],
    ],
  )
  assert.ok(!JSON.stringify(stream.seen).includes(other.body.deployments[0].id))
})

test('the event stream needs an admin token and a service that exists', async (t) => {
  const server = await startTestServer(t)
  const anonymous = await fetch(`${server.url}/api/v1/services/web/events`)
  assert.equal(anonymous.status, 401)
  const unknown = await server.api('GET', '/api/v1/services/nope/events')
  assert.equal(unknown.status, 404)
  assert.match(unknown.body.error, /service nope/)
})

test(`past ${MAX_STREAMS} open event streams one more is refused with 503, and a closed one frees its place`, async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const streams = await Promise.all(
    Array.from({ length: MAX_STREAMS }, () => openStream(server, 'web')),
  )
  t.after(() => streams.forEach((s) => s.close()))
  const refused = await server.api('GET', '/api/v1/services/web/events')
  assert.equal(refused.status, 503)
  assert.equal(refused.body.code, 'DH_ERR_TOO_MANY_STREAMS')
  streams.pop()!.close()
  // The server hears the close a moment later: the next open succeeds once it has.
  for (;;) {
    const again = await fetch(`${server.url}/api/v1/services/web/events`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    if (again.status === 200) {
      await again.body!.cancel()
      break
    }
    assert.equal(again.status, 503)
  }
})

test('shutdown ends open event streams instead of waiting for them', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web'))
  const stream = await openStream(server, 'web')
  await server.close()
  await stream.ended
  assert.deepEqual(
    stream.seen.map((e) => e.event),
    ['ready'],
  )
})
