/**
 * Large bodies are read one per turn of the event loop, on both stores. A turn is counted by an
 * immediate that reschedules itself: it runs once per turn of the loop, so two reads that see
 * the same count ran in the same turn, back to back.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { freshPostgresUrl } from '../../test/support/postgres-cluster.ts'
import { commandService, startTestServer } from '../../test/support/start-server.ts'
import { testStores } from '../../test/support/test-stores.ts'
import { senderById } from '../senders/sender-registry.ts'
import { CallAcceptor } from './accept-call.ts'
import { LARGE_BODY_BYTES, TurnGate } from './large-body-turns.ts'

function countTurns(): { now: () => number; stop: () => void } {
  let turn = 0
  let counting = true
  const tick = (): void => {
    turn++
    if (counting) {
      setImmediate(tick)
    }
  }
  setImmediate(tick)
  return { now: () => turn, stop: () => (counting = false) }
}

test('the turn gate lets its waiters go one per turn, in the order they came', async () => {
  const gate = new TurnGate()
  const turns = countTurns()
  const released: [number, number][] = []

  await Promise.all(
    Array.from({ length: 5 }, (_, index) =>
      gate.next().then(() => released.push([index, turns.now()])),
    ),
  )
  turns.stop()

  assert.deepEqual(
    released.map(([index]) => index),
    [0, 1, 2, 3, 4],
  )
  assert.equal(new Set(released.map(([, turn]) => turn)).size, 5, JSON.stringify(released))
})

for (const backend of await testStores()) {
  describe(`large bodies on ${backend.name}`, { skip: backend.skip }, () => {
    test('parallel large bodies are parsed one per turn', async (t) => {
      const env: Record<string, string> =
        backend.name === 'postgres' ? { DECKHAND_DATABASE_URL: await freshPostgresUrl() } : {}
      const server = await startTestServer(t, { env })
      await server.api('POST', '/api/v1/services', commandService('web', 'true'))
      const created = await server.api('POST', '/api/v1/services/web/triggers', {
        action: 'redeploy',
        sender: 'generic',
        rateLimit: '1000/min',
      })
      assert.equal(created.status, 201, JSON.stringify(created.body))
      const token = new URL(created.body.url).pathname.split('/').at(-1)!
      const generic = senderById('generic')!
      const parse = generic.parse.bind(generic)
      const turns = countTurns()
      t.after(turns.stop)
      const largeParsedIn: number[] = []
      // A spy: the real parse runs, and the turn a large body's ran in is noted.
      t.mock.method(generic, 'parse', (request: Parameters<typeof parse>[0]) => {
        if (request.body.length >= LARGE_BODY_BYTES) {
          largeParsedIn.push(turns.now())
        }
        return parse(request)
      })
      const acceptor = new CallAcceptor(server.store, server.events)
      const call = (padBytes: number) =>
        acceptor.accept({
          token,
          address: '127.0.0.1',
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify({ tag: 'v2', pad: 'p'.repeat(padBytes) })),
          query: {},
        })

      const answers = await Promise.all([
        ...Array.from({ length: 6 }, () => call(LARGE_BODY_BYTES)),
        ...Array.from({ length: 6 }, () => call(1024)),
      ])

      assert.deepEqual(
        answers.map((answer) => answer.status),
        Array.from({ length: 12 }, () => 202),
      )
      assert.equal(largeParsedIn.length, 6)
      assert.equal(new Set(largeParsedIn).size, 6, `turns: ${largeParsedIn.join(' ')}`)
    })
  })
}
