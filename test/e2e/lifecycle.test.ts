/** `deckhand serve` as a process: first start, crash recovery and graceful shutdown. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'

import { type SpawnedServer, spawnServer } from '../support/spawn-server.ts'
import { waitFor } from '../support/wait-for.ts'

const TOKEN = 'lifecycle-admin-token-0123456789abcdefghijkl'

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-lifecycle-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function stopAfter(t: TestContext, server: SpawnedServer): Promise<void> {
  t.after(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGKILL')
      await server.exited
    }
  })
}

const api = async (url: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await response.json()) as any
}

test('the first start prints an admin token once, outside the structured log, and never again', async (t) => {
  const dataDir = tempDir(t)
  const first = await spawnServer({ DECKHAND_DATA_DIR: dataDir })
  await stopAfter(t, first)
  const token = /^\s+([A-Za-z0-9_-]{43})$/m.exec(first.output())?.[1]
  assert.ok(token, `a token is printed: ${first.output()}`)
  const logLines = first
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
  assert.ok(logLines.length > 0)
  assert.equal(
    logLines.some((line) => line.includes(token)),
    false,
    'the token is not in a log line',
  )
  assert.equal(
    (await fetch(`${first.url}/api/v1/services`, { headers: { authorization: `Bearer ${token}` } }))
      .status,
    200,
  )
  first.child.kill('SIGTERM')
  assert.equal(await first.exited, 0)
  const second = await spawnServer({ DECKHAND_DATA_DIR: dataDir })
  await stopAfter(t, second)
  assert.equal(second.output().includes('admin token'), false)
  assert.equal(
    (
      await fetch(`${second.url}/api/v1/services`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).status,
    200,
  )
})

test('a deployment running when Deckhand is killed is marked interrupted at the next start, and the next one runs', async (t) => {
  const dataDir = tempDir(t)
  const env = { DECKHAND_DATA_DIR: dataDir, DECKHAND_ADMIN_TOKEN: TOKEN }
  const first = await spawnServer(env)
  await stopAfter(t, first)
  await api(first.url, 'POST', '/api/v1/services', {
    name: 'web',
    driver: 'command',
    target: { redeploy: 'sleep 60' },
  })
  const running = (
    await api(first.url, 'POST', '/api/v1/services/web/deployments', { action: 'redeploy' })
  ).deployments[0].id
  await waitFor(
    async () => (await api(first.url, 'GET', `/api/v1/deployments/${running}`)).state === 'running',
  )
  const queued = (
    await api(first.url, 'POST', '/api/v1/services/web/deployments', {
      action: 'scale',
      replicas: 2,
    })
  ).deployments[0].id
  first.child.kill('SIGKILL')
  await first.exited
  const second = await spawnServer(env)
  await stopAfter(t, second)
  const interrupted = await api(second.url, 'GET', `/api/v1/deployments/${running}`)
  assert.equal(interrupted.state, 'failed')
  assert.match(interrupted.error, /interrupted/)
  await waitFor(
    async () => (await api(second.url, 'GET', `/api/v1/deployments/${queued}`)).state === 'failed',
    {
      what: 'the queued scale to run (and fail: the service has no scale command)',
    },
  )
})

test('a redeploy running when Deckhand is killed records what it tried, redacted, and the row shows what runs', async (t) => {
  const dataDir = tempDir(t)
  const env = { DECKHAND_DATA_DIR: dataDir, DECKHAND_ADMIN_TOKEN: TOKEN }
  const first = await spawnServer(env)
  await stopAfter(t, first)
  await api(first.url, 'POST', '/api/v1/services', {
    name: 'web',
    driver: 'command',
    target: { redeploy: 'true' },
  })
  // The admin token stands for any secret a target may spell out.
  const broken = `sleep 60 # ${TOKEN}`
  await api(first.url, 'PATCH', '/api/v1/services/web', { target: { redeploy: broken } })
  const running = (
    await api(first.url, 'POST', '/api/v1/services/web/deployments', { action: 'redeploy' })
  ).deployments[0].id
  await waitFor(
    async () => (await api(first.url, 'GET', `/api/v1/deployments/${running}`)).state === 'running',
  )
  first.child.kill('SIGKILL')
  await first.exited
  const second = await spawnServer(env)
  await stopAfter(t, second)
  const interrupted = await api(second.url, 'GET', `/api/v1/deployments/${running}`)
  assert.equal(interrupted.state, 'failed')
  assert.match(interrupted.error, /interrupted/)
  assert.deepEqual(interrupted.tried, { target: { redeploy: 'sleep 60 # [redacted]' } })
  const service = await api(second.url, 'GET', '/api/v1/services/web')
  assert.equal(service.target.redeploy, 'true', 'the row shows what runs again')
})

test('SIGTERM stops accepting, lets a short deployment finish and marks a long one interrupted', async (t) => {
  const dataDir = tempDir(t)
  const server = await spawnServer({
    DECKHAND_DATA_DIR: dataDir,
    DECKHAND_ADMIN_TOKEN: TOKEN,
    DECKHAND_SHUTDOWN_GRACE_MS: '1500',
  })
  await stopAfter(t, server)
  await api(server.url, 'POST', '/api/v1/services', {
    name: 'short',
    driver: 'command',
    target: { redeploy: 'sleep 0.5' },
  })
  await api(server.url, 'POST', '/api/v1/services', {
    name: 'long',
    driver: 'command',
    target: { redeploy: 'sleep 60' },
  })
  const short = (await api(server.url, 'POST', '/api/v1/services/short/deployments', {}))
    .deployments[0].id
  const long = (await api(server.url, 'POST', '/api/v1/services/long/deployments', {}))
    .deployments[0].id
  await waitFor(
    async () =>
      (await api(server.url, 'GET', '/api/v1/deployments?state=running')).items.length === 2,
  )
  server.child.kill('SIGTERM')
  assert.equal(await server.exited, 0)
  const after = await spawnServer({ DECKHAND_DATA_DIR: dataDir, DECKHAND_ADMIN_TOKEN: TOKEN })
  await stopAfter(t, after)
  assert.equal((await api(after.url, 'GET', `/api/v1/deployments/${short}`)).state, 'succeeded')
  const stopped = await api(after.url, 'GET', `/api/v1/deployments/${long}`)
  assert.equal(stopped.state, 'failed')
  assert.match(stopped.error, /interrupted/)
})
