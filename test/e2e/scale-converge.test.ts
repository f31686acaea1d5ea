/**
 * A scale to the count the service row records, while the runtime runs fewer: through the real
 * server on the process driver, it is a deployment that starts the lost replica again, not
 * "nothing to do" (issue 16 point 4). At the count the runtime runs, it stays nothing to do.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { freePort } from '../support/spawn-server.ts'
import { startTestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

test('a scale to the recorded count while a replica is down converges, and at the running count has nothing to do', async (t) => {
  const server = await startTestServer(t)
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-converge-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const basePort = await freePort()
  // Replica 1 (PORT basePort + 1) crash-loops while its marker exists; the scale deployment's
  // deploy.before removes it, so only that deployment can bring the replica back.
  const marker = join(dir, `down-${basePort + 1}`)
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'process',
    target: {
      command: `test -e ${JSON.stringify(dir)}/down-$PORT && exit 3; exec sleep 600`,
      basePort,
      replicas: 2,
      health: { runningFor: '1s' },
      stopGrace: '1s',
    },
    scale: { min: 1, max: 3 },
    deploy: { before: `rm -f ${JSON.stringify(marker)}` },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const status = async () => (await server.api('GET', '/api/v1/services/web')).body.status
  const scale = (replicas: number) =>
    server.api('POST', '/api/v1/services/web/deployments', { action: 'scale', replicas })
  const up = await waitFor(
    async () => {
      const current = await status()
      return current.ready === 2 ? current : undefined
    },
    { timeoutMs: 15_000, what: 'both replicas to run' },
  )

  const idle = await scale(2)
  assert.equal(idle.status, 200, JSON.stringify(idle.body))
  assert.equal(idle.body.status, 'ignored')
  assert.equal(idle.body.reason, 'service web already runs 2 replicas')

  writeFileSync(marker, '')
  process.kill(up.items[1].pid, 'SIGKILL')
  const down = await waitFor(
    async () => {
      const current = await status()
      return current.ready === 1 && current.items[1]?.state !== 'running' ? current : undefined
    },
    { timeoutMs: 15_000, what: 'replica 1 to crash-loop' },
  )
  assert.equal(down.desired, 2)

  const converge = await scale(2)
  assert.equal(converge.status, 202, JSON.stringify(converge.body))
  const id = converge.body.deployments[0].id
  const done = await waitFor(
    async () => {
      const d = (await server.api('GET', `/api/v1/deployments/${id}`)).body
      return ['succeeded', 'failed', 'canceled'].includes(d.state) ? d : undefined
    },
    { timeoutMs: 30_000, what: 'the scale deployment to finish' },
  )
  assert.equal(done.state, 'succeeded', done.error)
  const after = await status()
  assert.equal(after.ready, 2)
  assert.equal(after.items[1].state, 'running')
  assert.equal(after.items[0].pid, up.items[0].pid, 'the replica that ran was left alone')
  const log = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body
  assert.match(JSON.stringify(log), /runs 1 replicas where 2 should; converging on process/)
})

test('a scale step while a replica is down starts from the count Deckhand set and logs base and result', async (t) => {
  const server = await startTestServer(t)
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-step-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const basePort = await freePort()
  const marker = join(dir, `down-${basePort + 1}`)
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'process',
    target: {
      command: `test -e ${JSON.stringify(dir)}/down-$PORT && exit 3; exec sleep 600`,
      basePort,
      replicas: 2,
      health: { runningFor: '1s' },
      stopGrace: '1s',
    },
    scale: { min: 1, max: 3 },
    deploy: { before: `rm -f ${JSON.stringify(marker)}` },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const status = async () => (await server.api('GET', '/api/v1/services/web')).body.status
  const up = await waitFor(
    async () => {
      const current = await status()
      return current.ready === 2 ? current : undefined
    },
    { timeoutMs: 15_000, what: 'both replicas to run' },
  )
  writeFileSync(marker, '')
  process.kill(up.items[1].pid, 'SIGKILL')
  await waitFor(async () => (await status()).ready === 1, {
    timeoutMs: 15_000,
    what: 'replica 1 to crash-loop',
  })

  const step = await server.api('POST', '/api/v1/services/web/deployments', {
    action: 'scale-up',
  })
  assert.equal(step.status, 202, JSON.stringify(step.body))
  const id = step.body.deployments[0].id
  const done = await waitFor(
    async () => {
      const d = (await server.api('GET', `/api/v1/deployments/${id}`)).body
      return ['succeeded', 'failed', 'canceled'].includes(d.state) ? d : undefined
    },
    { timeoutMs: 30_000, what: 'the scale step to finish' },
  )
  assert.equal(done.state, 'succeeded', done.error)
  const lines = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items.map(
    (l: { line: string }) => l.line,
  )
  assert.ok(
    lines.includes('scale +1: 2 → 3 (from the 2 replicas Deckhand last set; 1 runs now)'),
    lines.join('\n'),
  )
  const after = await status()
  assert.deepEqual(
    [after.ready, after.desired],
    [3, 3],
    'the lost replica came back beside the new one',
  )
  assert.equal((await server.api('GET', '/api/v1/services/web')).body.replicas, 3)
})
