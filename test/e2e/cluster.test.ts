/** Many `deckhand serve` instances on one PostgreSQL database (PRODUCT.md sections 8 and 9). */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'

import pg from 'pg'

import { awaitDeployments } from '../../src/queue/await-deployments.ts'
import { bootstrapAdminToken } from '../../src/server/admin-token.ts'
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts'
import { freshPostgresUrl } from '../support/postgres-cluster.ts'
import { type SpawnedServer, spawnServer } from '../support/spawn-server.ts'
import { commandService, startTestServer } from '../support/start-server.ts'
import { testStores } from '../support/test-stores.ts'
import { waitFor } from '../support/wait-for.ts'

const TOKEN = 'cluster-admin-token-0123456789abcdefghijklmno'
// Short enough that a takeover is quick to see, long enough that a busy machine (2 cores,
// three instances, the database and other suites) still renews every lease it holds.
const LEASE_MS = 5000
const SERVICES = 20
const BURSTS = 2
const CALLS_PER_BURST = 300

const postgres = (await testStores()).find((backend) => backend.name === 'postgres')
const skip = postgres ? postgres.skip : 'PostgreSQL is named out by DECKHAND_TEST_STORES'
if (!postgres) {
  process.stderr.write(`\nWARNING: skipping the cluster tests. ${skip}\n\n`)
}

const FINAL = ['succeeded', 'failed', 'canceled']

async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  assert.ok(response.status < 400, `${method} ${path}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}

/** A redeploy that holds until its gate file exists (or the test's directory is gone). */
function gated(dir: string, gate: string, after = ''): string {
  return `while [ -d ${dir} ] && [ ! -f ${join(dir, gate)} ]; do sleep 0.05; done${after}`
}

/** Reads a Server-Sent Events stream, letting the test wait for what has arrived so far. */
async function follow(url: string, id: string, token = TOKEN) {
  const response = await fetch(`${url}/api/v1/deployments/${id}/log?follow=1`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(120_000),
  })
  assert.equal(response.headers.get('content-type'), 'text/event-stream')
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let done = false
  return {
    text: () => text,
    /** Reads until `pattern` is in the stream; fails if the stream ends first. */
    async until(pattern: RegExp): Promise<string> {
      while (!pattern.test(text)) {
        assert.ok(!done, `the stream ended without ${pattern}:\n${text}`)
        const chunk = await reader.read()
        done = chunk.done
        text += chunk.value ? decoder.decode(chunk.value, { stream: true }) : ''
      }
      return text
    },
    cancel: () => reader.cancel().catch(() => {}),
  }
}

describe('three deckhand serve instances on one PostgreSQL database', { skip }, () => {
  let databaseUrl: string
  let db: pg.Client
  let dir: string
  let instances: SpawnedServer[] = []

  before(async () => {
    databaseUrl = await freshPostgresUrl()
    dir = mkdtempSync(join(tmpdir(), 'deckhand-cluster-'))
    db = new pg.Client({ connectionString: databaseUrl })
    await db.connect()
    // Started together, as an orchestrator starts replicas: each migrates, bootstraps the same
    // admin token and starts claiming at the same moment.
    instances = await Promise.all(
      [0, 1, 2].map((i) => {
        mkdirSync(join(dir, `instance-${i}`))
        return spawnServer({
          DECKHAND_DATABASE_URL: databaseUrl,
          DECKHAND_DATA_DIR: join(dir, `instance-${i}`),
          DECKHAND_ADMIN_TOKEN: TOKEN,
          DECKHAND_LEASE_MS: String(LEASE_MS),
          DECKHAND_SHUTDOWN_GRACE_MS: '2000',
          DECKHAND_LOG_LEVEL: 'warn',
        })
      }),
    )
  })

  after(async () => {
    await Promise.all(
      instances.map(async (instance) => {
        if (instance.child.exitCode === null && instance.child.signalCode === null) {
          instance.child.kill('SIGTERM')
        }
        await instance.exited
      }),
    )
    await db?.end()
    // Gone, so a redeploy left holding by the killed instance ends its wait too.
    if (dir) {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  /** The instance whose worker runs the deployment: its lease owner is `host:pid:nonce`. */
  async function ownerOf(id: string): Promise<SpawnedServer> {
    const { rows } = await db.query('SELECT owner FROM deployments WHERE id = $1', [id])
    const pid = Number(String(rows[0]?.owner).split(':').at(-2))
    const instance = instances.find((candidate) => candidate.child.pid === pid)
    assert.ok(instance, `owner ${rows[0]?.owner} is none of the instances`)
    return instance
  }

  /** Queues a deployment through the API of `url`; answers its id. */
  const deploy = async (url: string, service: string, body: Record<string, unknown>) =>
    (await api(url, 'POST', `/api/v1/services/${service}/deployments`, body)).deployments[0]
      .id as string

  const running = (url: string, id: string) =>
    waitFor(async () => (await api(url, 'GET', `/api/v1/deployments/${id}`)).state === 'running', {
      timeoutMs: 30_000,
      what: `deployment ${id} to run`,
    })

  const finalState = (url: string, id: string) =>
    waitFor(
      async () => {
        const deployment = await api(url, 'GET', `/api/v1/deployments/${id}`)
        return FINAL.includes(deployment.state) ? deployment : undefined
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `deployment ${id} to end` },
    )

  test('600 calls: all recorded, one deployment per service at a time, coalesced', async (t) => {
    const first = instances[0]!.url
    const urls: string[] = []
    for (let i = 0; i < SERVICES; i++) {
      const name = `svc-${String(i).padStart(2, '0')}`
      // Holds at the burst's gate, then takes a little time, as a real redeploy would.
      const script = gated(dir, 'open', '; sleep 0.2')
      await api(first, 'POST', '/api/v1/services', commandService(name, script))
      const trigger = await api(first, 'POST', `/api/v1/services/${name}/triggers`, {
        action: 'redeploy',
        rateLimit: '100000/min',
      })
      urls.push(new URL(trigger.url).pathname)
    }
    const accepted = new Set<string>()
    for (let burst = 0; burst < BURSTS; burst++) {
      const started = performance.now()
      // Each answer: which service, and the deployment it was queued into or joined.
      const answers: { service: number; deployment: string }[] = []
      let next = 0
      const sender = async () => {
        while (next < CALLS_PER_BURST) {
          const i = next++
          const key = `burst-${burst}-call-${i}`
          const instance = instances[i % instances.length]!
          const response = await fetch(`${instance.url}${urls[i % SERVICES]}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify({ burst, call: i }),
          })
          const body = await response.json()
          assert.equal(response.status, 202, `${key} on ${instance.url}: ${JSON.stringify(body)}`)
          accepted.add(key)
          answers.push({ service: i % SERVICES, deployment: body.deployments[0].id })
        }
      }
      await Promise.all(Array.from({ length: 24 }, sender))
      const answeredMs = performance.now() - started
      writeFileSync(join(dir, 'open'), '')
      const ids = [...new Set(answers.map((answer) => answer.deployment))]
      const ended = await Promise.all(ids.map((id, i) => finalState(instances[i % 3]!.url, id)))
      rmSync(join(dir, 'open'))
      for (const deployment of ended) {
        assert.equal(deployment.state, 'succeeded', JSON.stringify(deployment))
      }
      for (let service = 0; service < SERVICES; service++) {
        const own = new Set(answers.filter((a) => a.service === service).map((a) => a.deployment))
        assert.ok(own.size <= 2, `service ${service}: ${own.size} deployments in burst ${burst}`)
      }
      assert.equal(
        ended.reduce((sum, deployment) => sum + deployment.calls, 0),
        CALLS_PER_BURST,
        'every call of the burst is counted by the deployment it joined',
      )
      const endedMs = performance.now() - started
      t.diagnostic(
        `burst ${burst}: ${CALLS_PER_BURST} calls answered in ${Math.round(answeredMs)} ms; ` +
          `${ids.length} deployments, all ended ${Math.round(endedMs)} ms after the first call`,
      )
    }

    // Every 202 is in the call history, read through an instance that answered only some.
    const recorded = new Set<string>()
    let cursor: string | null = null
    do {
      const page: any = await api(
        instances[2]!.url,
        'GET',
        `/api/v1/calls?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      )
      for (const call of page.items) {
        recorded.add(call.deliveryId)
      }
      cursor = page.next
    } while (cursor)
    const lost = [...accepted].filter((key) => !recorded.has(key))
    assert.equal(accepted.size, BURSTS * CALLS_PER_BURST)
    assert.deepEqual(lost, [], `${lost.length} accepted calls are missing from /api/v1/calls`)

    // The database's own history: per service, each deployment started after the one before
    // it finished (timestamps from the database clock, compared in SQL at full precision).
    const history = await db.query(`
      SELECT service, id, started_at, finished_at,
             lag(id) OVER w AS previous, lag(finished_at) OVER w AS previous_finished
        FROM deployments WHERE started_at IS NOT NULL
      WINDOW w AS (PARTITION BY service ORDER BY started_at, seq)`)
    const overlaps = history.rows.filter(
      (row) =>
        row.previous !== null &&
        (row.previous_finished === null || row.started_at < row.previous_finished),
    )
    assert.deepEqual(overlaps, [], 'a service had two deployments running at once')
    assert.ok(
      history.rows.every((row) => row.finished_at !== null),
      'every deployment ended',
    )
    const owners = await db.query(
      'SELECT owner, count(*)::int AS n FROM deployments GROUP BY owner ORDER BY owner',
    )
    const shares = owners.rows.map((row) => row.n).join(' / ')
    t.diagnostic(`${history.rows.length} deployments, run by the instances ${shares}`)
  })

  test('a log followed on one instance streams a deployment another instance runs', async (t) => {
    const first = instances[0]!.url
    const script = `echo "line one"; ${gated(dir, 'tail-gate', '; echo "line two"')}`
    await api(first, 'POST', '/api/v1/services', commandService('tail', script))
    const id = await deploy(first, 'tail', { action: 'redeploy' })
    await running(first, id)
    const owner = await ownerOf(id)
    const follower = instances.find((instance) => instance !== owner)!
    const stream = await follow(follower.url, id)
    t.after(stream.cancel)
    // The first line arrives while the deployment still runs, on an instance that does not.
    await stream.until(/"line":"line one"/)
    assert.equal((await api(follower.url, 'GET', `/api/v1/deployments/${id}`)).state, 'running')
    writeFileSync(join(dir, 'tail-gate'), '')
    const text = await stream.until(/event: end\n/)
    assert.match(text, /"line":"line two"/)
    assert.match(text, /event: end\ndata: .*"state":"succeeded"/)
  })

  test('kill -9 of the instance running a deployment: marked lost, next one runs', async (t) => {
    const first = instances[0]!.url
    // Tag `hold` never ends on its own; tag `go` succeeds at once.
    const script = `[ "$DECKHAND_IMAGE_TAG" = go ] || ${gated(dir, 'never')}`
    await api(first, 'POST', '/api/v1/services', commandService('victim', script))
    const held = await deploy(first, 'victim', { action: 'redeploy', tag: 'hold' })
    await running(first, held)
    const next = await deploy(first, 'victim', { action: 'redeploy', tag: 'go' })
    assert.notEqual(next, held)
    const victim = await ownerOf(held)
    const survivors = instances.filter((instance) => instance !== victim)
    victim.child.kill('SIGKILL')
    await victim.exited
    const killedAt = performance.now()
    // The victim renews no more: its lease runs out at this time, on the database's clock.
    const lease = await db.query(
      'SELECT lease_expires_at AS expires, clock_timestamp() AS now FROM deployments WHERE id = $1',
      [held],
    )
    const lost = await waitFor(
      async () => {
        const deployment = await api(survivors[0]!.url, 'GET', `/api/v1/deployments/${held}`)
        return deployment.state === 'running' ? undefined : deployment
      },
      { timeoutMs: LEASE_MS * 2 + 30_000, intervalMs: 100, what: 'the lost one to be marked' },
    )
    const markedMs = performance.now() - killedAt
    assert.equal(lost.state, 'failed')
    assert.match(lost.error, /^instance lost/)
    const done = await finalState(survivors[1]!.url, next)
    assert.equal(done.state, 'succeeded', JSON.stringify(done))
    assert.equal(done.params.tag, 'go')
    assert.ok(
      Date.parse(done.startedAt) >= Date.parse(lost.finishedAt),
      'the next deployment started after the lost one was marked',
    )
    const runner = await ownerOf(next)
    assert.ok(survivors.includes(runner), 'a surviving instance ran the next deployment')
    assert.equal((await api(survivors[1]!.url, 'GET', '/api/v1/services/victim')).tag, 'go')
    const { expires, now } = lease.rows[0]
    const sweptMs = Date.parse(lost.finishedAt) - expires
    t.diagnostic(
      `lease ${LEASE_MS} ms: it ran out ${expires - now} ms after the kill; the deployment was ` +
        `marked lost ${sweptMs} ms later, ${Math.round(markedMs)} ms after the kill`,
    )
  })
})

test('an instance hears through NOTIFY the log lines another writes', { skip }, async (t) => {
  const url = await freshPostgresUrl()
  const gates = mkdtempSync(join(tmpdir(), 'deckhand-notify-'))
  t.after(() => rmSync(gates, { recursive: true, force: true }))
  const runner = await startTestServer(t, { env: { DECKHAND_DATABASE_URL: url } })
  const script = `echo "line one"; ${gated(gates, 'gate', '; echo "line two"')}`
  await runner.api('POST', '/api/v1/services', commandService('web', script))
  const queued = await runner.api('POST', '/api/v1/services/web/deployments', {
    action: 'redeploy',
  })
  const id: string = queued.body.deployments[0].id
  await waitFor(
    async () => (await runner.api('GET', `/api/v1/deployments/${id}`)).body.state === 'running',
    { what: 'the deployment to run on the first instance' },
  )
  // Started once the deployment runs on the first, so this instance only follows it.
  const follower = await startTestServer(t, { env: { DECKHAND_DATABASE_URL: url } })
  const heard: string[] = []
  follower.events.on('deployment:remote-change', (e) => void heard.push(e.deploymentId))
  const stream = await follow(follower.url, id, follower.token)
  t.after(stream.cancel)
  await stream.until(/"line":"line one"/)
  writeFileSync(join(gates, 'gate'), '')
  await stream.until(/event: end\n/)
  assert.match(stream.text(), /"line":"line two"/)
  assert.ok(heard.includes(id), 'the follower heard of the lines written on the other instance')
})

test('instances starting together with one DECKHAND_ADMIN_TOKEN all start', { skip }, async () => {
  // Each instance finds no token and inserts it; all but the first used to die on the
  // unique token hash. Four stores on one database race as four starting instances do, with
  // their connections already open so that the race is as tight as it is in production.
  const url = await freshPostgresUrl()
  const stores = [0, 1, 2, 3].map(() => new PostgresStore(url))
  try {
    await Promise.all(stores.map((store) => store.ping()))
    for (let round = 0; round < 5; round++) {
      const token = `${TOKEN}-${round}`
      const started = await Promise.allSettled(
        stores.map((store) => bootstrapAdminToken(store, token, () => {})),
      )
      assert.deepEqual(
        started.map((result) => (result.status === 'fulfilled' ? 'started' : `${result.reason}`)),
        ['started', 'started', 'started', 'started'],
      )
    }
    assert.equal(await stores[0]!.countAdminTokens(), 5)
  } finally {
    await Promise.all(stores.map((store) => store.close()))
  }
})

test(
  'a wait on one instance ends when another instance records the end, not at a poll',
  { skip },
  async (t) => {
    const url = await freshPostgresUrl()
    const gates = mkdtempSync(join(tmpdir(), 'deckhand-wait-'))
    t.after(() => rmSync(gates, { recursive: true, force: true }))
    const runner = await startTestServer(t, { env: { DECKHAND_DATABASE_URL: url } })
    await runner.api('POST', '/api/v1/services', commandService('web', gated(gates, 'gate')))
    const queued = await runner.api('POST', '/api/v1/services/web/deployments', {
      action: 'redeploy',
    })
    const id: string = queued.body.deployments[0].id
    await waitFor(
      async () => (await runner.api('GET', `/api/v1/deployments/${id}`)).body.state === 'running',
      { what: 'the deployment to run on the first instance' },
    )
    // Started once the deployment runs on the first, so this instance only waits for it.
    const waiter = await startTestServer(t, { env: { DECKHAND_DATABASE_URL: url } })
    // A poll of an hour: only the other instance's NOTIFY can end this wait within the deadline.
    const ended = awaitDeployments(waiter.store, waiter.events, [id], 90_000, 3_600_000)
    writeFileSync(join(gates, 'gate'), '')
    const deadline = delay(60_000, 'no wake-up within 60 s', { ref: false })
    const deployments = await Promise.race([ended, deadline])
    assert.ok(typeof deployments !== 'string', 'no wake-up within 60 s')
    assert.equal(deployments?.[0]?.state, 'succeeded')
  },
)
