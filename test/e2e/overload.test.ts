/**
 * Overload (PRODUCT.md section 10): a trigger call that arrives while the calls in flight are
 * at their bound is answered 503 at once with Retry-After, records and queues nothing, and is
 * counted by /metrics; under normal load nothing is shed. Commits are made slow for real:
 * another PostgreSQL session holds a lock on the calls table, so every group's insert waits.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import pg from 'pg'

import { FLOOR } from '../../src/http/hooks/intake-limit.ts'
import { freshPostgresUrl } from '../support/postgres-cluster.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { testStores } from '../support/test-stores.ts'
import { waitFor } from '../support/wait-for.ts'

const postgres = (await testStores()).find((backend) => backend.name === 'postgres')
const skip = postgres ? postgres.skip : 'PostgreSQL is named out by DECKHAND_TEST_STORES'
if (skip) {
  process.stderr.write(`\nWARNING: skipping the slow-commit overload test. ${skip}\n\n`)
}

const UNLIMITED = { action: 'redeploy', rateLimit: '1000000000/s' }
const CALL = { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }

async function triggerUrl(server: TestServer): Promise<string> {
  const created = await server.api('POST', '/api/v1/services', commandService('web', 'sleep 30'))
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const trigger = await server.api('POST', '/api/v1/services/web/triggers', UNLIMITED)
  assert.equal(trigger.status, 201, JSON.stringify(trigger.body))
  return trigger.body.url as string
}

async function shedCount(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const sample = /^deckhand_calls_shed_total (\d+)$/m.exec(text)
  assert.ok(sample, 'deckhand_calls_shed_total is exposed')
  return Number(sample[1])
}

async function recordedCalls(server: TestServer): Promise<number> {
  const listing = await server.api('GET', '/api/v1/calls?limit=1000')
  assert.equal(listing.status, 200)
  return listing.body.items.length
}

test(
  'with commits stalled, calls past the bound get 503 and Retry-After at once and record nothing',
  { skip },
  async (t) => {
    const url = await freshPostgresUrl()
    const server = await startTestServer(t, { env: { DECKHAND_DATABASE_URL: url } })
    const hook = await triggerUrl(server)
    const locker = new pg.Client({ connectionString: url })
    await locker.connect()
    t.after(() => locker.end())
    await locker.query('BEGIN')
    // Inserts wait for this lock (reads do not): each group's commit stalls until it is released.
    await locker.query('LOCK TABLE calls IN EXCLUSIVE MODE')
    try {
      await stalledCalls(server, hook, locker)
    } finally {
      // Released on failure too: the server's close would otherwise wait on the lock forever.
      await locker.query('ROLLBACK').catch(() => undefined)
    }
  },
)

async function stalledCalls(server: TestServer, hook: string, locker: pg.Client): Promise<void> {
  const extra = 16
  const answers: { status: number; retryAfter: string | null; body: any }[] = []
  const calls = Array.from({ length: FLOOR + extra }, async () => {
    const response = await fetch(hook, CALL)
    const retryAfter = response.headers.get('retry-after')
    const answer = { status: response.status, retryAfter, body: await response.json() }
    answers.push(answer)
    return answer
  })
  // No admitted call can be answered while the lock is held: the first answers are the shed ones.
  await waitFor(() => answers.length === extra, { timeoutMs: 30_000, what: `${extra} calls shed` })
  for (const answer of answers) {
    assert.equal(answer.status, 503, JSON.stringify(answer.body))
    assert.equal(answer.retryAfter, '1')
    assert.equal(answer.body.code, 'DH_ERR_HOOK_OVERLOADED')
    assert.match(answer.body.error, /not recorded and queued nothing/)
  }
  assert.equal(await shedCount(server), extra)
  // One warning sums shed calls up; a line each would add to the overload.
  const warnings = server.logs.filter((line) =>
    line.includes('calls in flight were at their bound'),
  )
  assert.equal(warnings.length, 1, warnings.join('\n'))
  const access = server.logs.filter((line) => /"status":503/.test(line) && /"level":30/.test(line))
  assert.deepEqual(access, [], 'no info access line per shed call')

  await locker.query('ROLLBACK')
  const all = await Promise.all(calls)
  assert.deepEqual(
    all.filter((a) => a.status !== 503).map((a) => a.status),
    Array(FLOOR).fill(202),
  )
  assert.equal(await recordedCalls(server), FLOOR, 'only the admitted calls were recorded')
  assert.equal(await shedCount(server), extra)
}

test('under normal load, as many concurrent callers as the floor, nothing is shed', async (t) => {
  const server = await startTestServer(t)
  const hook = await triggerUrl(server)
  // FLOOR × perLane stays under the 1,000 calls one listing page shows.
  const perLane = 3
  const statuses = await Promise.all(
    Array.from({ length: FLOOR }, async () => {
      const seen: number[] = []
      for (let n = 0; n < perLane; n++) {
        const response = await fetch(hook, CALL)
        await response.body?.cancel()
        seen.push(response.status)
      }
      return seen
    }),
  )
  assert.deepEqual(new Set(statuses.flat()), new Set([202]))
  assert.equal(await shedCount(server), 0)
  assert.equal(await recordedCalls(server), FLOOR * perLane)
})
