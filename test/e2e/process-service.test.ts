/** A real process service driven by trigger calls: redeploy, scale, adoption across restarts. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { freePort } from '../support/spawn-server.ts'
import { startTestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const SERVER_SCRIPT =
  "require('http').createServer((q, s) => s.end(JSON.stringify({ pid: process.pid, deployment: process.env.DECKHAND_DEPLOYMENT_ID || null, body: process.env.DECKHAND_TRIGGER_BODY || null }))).listen(process.env.PORT, '127.0.0.1')"

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('trigger calls redeploy and scale a process service, and a restart of Deckhand adopts its replicas', async (t) => {
  const basePort = await freePort()
  const service = {
    name: 'web',
    driver: 'process',
    target: {
      command: `${JSON.stringify(process.execPath)} -e ${JSON.stringify(SERVER_SCRIPT)}`,
      basePort,
      replicas: 1,
      health: { http: '/' },
      stopGrace: '2s',
    },
    scale: { min: 1, max: 2 },
    deploy: { healthTimeout: '15s' },
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-adopt-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const first = await startTestServer(t, { dataDir })
  assert.equal((await first.api('POST', '/api/v1/services', service)).status, 201)
  const read = async (port = basePort) =>
    (await fetch(`http://127.0.0.1:${port}/`)).json() as Promise<{
      pid: number
      deployment: string | null
      body: string | null
    }>
  const initial = await waitFor(() => read().catch(() => undefined), {
    timeoutMs: 15_000,
    what: 'the first replica to answer',
  })
  // The first start was a deployment of its own, recorded with the call that says why.
  const [created] = (await first.api('GET', '/api/v1/deployments?service=web')).body.items
  assert.equal(initial.deployment, created.id)
  assert.equal(created.action, 'redeploy')

  const redeploy = (
    await first.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  ).body.url
  const answer = await first.hook(`${redeploy}?wait=60s`, { body: '{"push":1}' })
  assert.equal(answer.status, 200, JSON.stringify(answer.body))
  const after = await read()
  assert.equal(after.deployment, answer.body.deployments[0].id)
  assert.equal(after.body, '{"push":1}')
  assert.notEqual(after.pid, initial.pid)
  await waitFor(() => !isAlive(initial.pid), { what: 'the old replica to stop' })

  const scaleUp = (
    await first.api('POST', '/api/v1/services/web/triggers', { action: 'scale-up', cooldown: 0 })
  ).body.url
  const scaled = await first.hook(`${scaleUp}?wait=60s`)
  assert.equal(scaled.status, 200, JSON.stringify(scaled.body))
  const second = await read(basePort + 1)
  assert.equal((await first.api('GET', '/api/v1/services/web')).body.status.replicas, 2)
  const atBound = await first.hook(scaleUp)
  assert.equal(atBound.body.status, 'ignored')

  await first.close({ keepServices: true })
  assert.ok(isAlive(after.pid) && isAlive(second.pid), 'replicas outlive Deckhand')
  const restarted = await startTestServer(t, { dataDir })
  assert.equal((await read()).pid, after.pid, 'the restarted server adopted the running replica')
  assert.equal((await restarted.api('GET', '/api/v1/services/web')).body.status.replicas, 2)

  assert.equal((await restarted.api('DELETE', '/api/v1/services/web')).status, 204)
  await waitFor(() => !isAlive(after.pid) && !isAlive(second.pid), {
    timeoutMs: 10_000,
    what: 'replicas to stop after delete',
  })
})

test('a redeploy whose new replica never becomes healthy fails and leaves the old one running', async (t) => {
  const server = await startTestServer(t)
  const command =
    'if [ -n "$BROKEN" ]; then echo "cannot start: BROKEN is set" >&2; exit 1; fi; exec sleep 300'
  await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'process',
    target: { command, health: { runningFor: '1s' }, stopGrace: '2s' },
    deploy: { healthTimeout: '5s' },
  })
  const replica = async () => (await server.api('GET', '/api/v1/services/web')).body.status.items[0]
  const before = await waitFor(async () =>
    (await replica())?.state === 'running' ? replica() : undefined,
  )
  const url = (
    await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
      envFromQuery: ['BROKEN'],
    })
  ).body.url
  const answer = await server.hook(`${url}?BROKEN=1&wait=60s`)
  assert.equal(answer.status, 500)
  const log = await server.api('GET', `/api/v1/deployments/${answer.body.deployments[0].id}/log`)
  assert.ok(
    log.body.items.some((l: { line: string }) => l.line.includes('cannot start: BROKEN is set')),
    "the failure shows the new replica's output",
  )
  const after = await replica()
  assert.equal(after.state, 'running')
  assert.equal(
    after.detail.split(',')[0],
    before.detail.split(',')[0],
    'the same old process still runs',
  )
})

test('a process service whose replica crash-loops reports status ready 0 of desired 1', async (t) => {
  const server = await startTestServer(t)
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'process',
    // Healthy for its first start, then it exits: the supervisor restarts it, again and again.
    target: {
      command: 'sleep 2; echo crashing; exit 1',
      health: { runningFor: '1s' },
      stopGrace: '1s',
    },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const status = async () => (await server.api('GET', '/api/v1/services/web')).body.status
  // Read ready/desired from the same answer that shows the replica between two crashes.
  const looping = await waitFor(
    async () => {
      const current = await status()
      return ['restarting', 'crashed'].includes(current.items[0]?.state) ? current : undefined
    },
    { timeoutMs: 15_000, what: 'the replica to crash and wait for its restart' },
  )
  assert.equal(looping.ready, 0)
  assert.equal(looping.desired, 1)
})

test('creating a process service whose command exits at once is a failed deployment with its output, not a restart loop', async (t) => {
  const server = await startTestServer(t)
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'process',
    target: { command: 'echo missing config file; exit 3', stopGrace: '1s' },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const failed = await waitFor(
    async () => {
      const [first] = (await server.api('GET', '/api/v1/deployments?service=web')).body.items
      return first && first.state !== 'queued' && first.state !== 'running' ? first : undefined
    },
    { timeoutMs: 15_000, what: 'the first start to finish' },
  )
  assert.equal(failed.state, 'failed')
  assert.equal(failed.action, 'redeploy')
  assert.match(failed.error, /missing config file/)
  assert.ok(failed.startedAt !== null && failed.finishedAt !== null, 'it has a duration')
  const log = (await server.api('GET', `/api/v1/deployments/${failed.id}/log`)).body.items
  assert.match(log.at(-1).line, /^deployment failed: /)
  const calls = (await server.api('GET', '/api/v1/calls')).body.items
  assert.ok(calls.some((c: any) => c.reason === 'service web created: its first start'))
  const status = (await server.api('GET', '/api/v1/services/web')).body.status
  assert.deepEqual([status.ready, status.items.length], [0, 0], 'nothing is left restarting')
})

test('a command service says it cannot see ready and desired, and why', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', {
    name: 'job',
    driver: 'command',
    target: { redeploy: 'true' },
  })
  const status = (await server.api('GET', '/api/v1/services/job')).body.status
  assert.equal(status.ready, null)
  assert.equal(status.desired, null)
  assert.match(status.detail, /cannot see what runs/)
})

test('a process service lists each instance with its pid, port and start time', async (t) => {
  const server = await startTestServer(t)
  const port = await freePort()
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'process',
    target: {
      // exec: the replica's pid is then the server's own, not a shell's.
      command: `exec ${JSON.stringify(process.execPath)} -e ${JSON.stringify(SERVER_SCRIPT)}`,
      basePort: port,
      health: { http: '/' },
      stopGrace: '1s',
    },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const item = await waitFor(
    async () => {
      const items = (await server.api('GET', '/api/v1/services/web')).body.status.items
      return items[0]?.state === 'running' ? items[0] : undefined
    },
    { timeoutMs: 15_000, what: 'the replica to run' },
  )
  await waitFor(
    () =>
      fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => undefined,
      ),
    {
      timeoutMs: 15_000,
      what: 'the replica to answer',
    },
  )
  const answer = (await (await fetch(`http://127.0.0.1:${item.port}/`)).json()) as { pid: number }
  assert.equal(item.pid, answer.pid)
  assert.equal(item.port, String(port))
  assert.ok(Math.abs(Date.parse(item.startedAt) - Date.now()) < 60_000, item.startedAt)
  assert.equal(item.restarts, 0)
})

test('a PATCH after a failed first start changes the row only: nothing runs until a deployment runs it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-patch-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const first = await startTestServer(t, { dataDir })
  const created = await first.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'process',
    target: { command: 'echo missing config file; exit 3', stopGrace: '1s' },
    scale: { min: 0, max: 3 },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const ended = async (server: typeof first, id?: string) =>
    waitFor(
      async () => {
        const items = (await server.api('GET', '/api/v1/deployments?service=web')).body.items
        const found = id === undefined ? items.at(-1) : items.find((d: any) => d.id === id)
        return found && !['queued', 'running'].includes(found.state) ? found : undefined
      },
      { timeoutMs: 15_000, what: 'the deployment to end' },
    )
  assert.equal((await ended(first)).state, 'failed')
  const status = async (server: typeof first) =>
    (await server.api('GET', '/api/v1/services/web')).body.status

  // The PATCH answers once the driver was told, so a replica it started would show here.
  const fixed = { target: { command: 'exec sleep 600' } }
  assert.equal((await first.api('PATCH', '/api/v1/services/web', fixed)).status, 200)
  assert.deepEqual([(await status(first)).items.length, (await status(first)).ready], [0, 0])

  // Nor does a restarted Deckhand start it: adoption runs what a deployment ran, and none did.
  await first.close({ keepServices: true })
  const second = await startTestServer(t, { dataDir })
  assert.deepEqual((await status(second)).items, [], 'nothing started at the restart')

  const asked = await second.api('POST', '/api/v1/services/web/deployments', {
    action: 'redeploy',
  })
  assert.equal(asked.status, 202, JSON.stringify(asked.body))
  const ran = await ended(second, asked.body.deployments[0].id)
  assert.equal(ran.state, 'succeeded', ran.error)
  const running = await status(second)
  assert.equal(running.ready, 1)

  // A PATCH of the replica count is the row's too: the next scale or redeploy runs it.
  assert.equal((await second.api('PATCH', '/api/v1/services/web', { replicas: 2 })).status, 200)
  const patched = await status(second)
  assert.deepEqual([patched.ready, patched.desired], [1, 2])
  assert.equal(patched.items[0].pid, running.items[0].pid, 'the replica that ran was left alone')
})
