/** An engine that goes away under a real server: /readyz, failures naming the socket, deploy.retries. */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { before, test } from 'node:test'

import { type EngineProxy, engineProxy } from '../support/engine-proxy.ts'
import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { BASE_IMAGE, privateDockerd } from '../support/private-dockerd.ts'
import { startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const handle = await privateDockerd()
const APP = `CMD ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]`

before(async () => {
  if (handle.engine) {
    const healthy = 'HEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true'
    await handle.engine.buildImage('dh-app:1', `FROM ${BASE_IMAGE}\n${healthy}\n${APP}\n`)
  }
})

let serial = 0
const unique = (prefix: string): string => `${prefix}-${handle.engine?.runId ?? 'x'}-${++serial}`

/**
 * The server reaches the engine through a proxy the test can stop and start (engine-proxy.ts),
 * to see the engine go away and come back without restarting the test's private dockerd.
 */
interface Switchable extends EngineProxy {
  server: TestServer
}

async function serverThroughProxy(t: TestContext, engine: PrivateDockerd): Promise<Switchable> {
  t.after(() => engine.cleanup())
  const proxy = await engineProxy(t, engine.socketPath)
  const server = await startTestServer(t, {
    env: { DOCKER_HOST: `unix://${proxy.socket}`, DECKHAND_DRIVERS: 'process,command,docker' },
  })
  return { server, ...proxy }
}

async function containerService(
  server: TestServer,
  engine: PrivateDockerd,
  deploy: Record<string, unknown>,
): Promise<string> {
  const name = unique('web')
  await engine.run(['--name', name, '--network', 'none', 'dh-app:1'])
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container: name },
    image: 'dh-app',
    deploy,
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  assert.deepEqual(
    [created.body.deploy.retries, created.body.deploy.retryBackoff],
    [deploy.retries, deploy.retryBackoff],
    'the view shows the retry policy as written',
  )
  const trigger = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  return trigger.body.url as string
}

async function logOf(server: TestServer, id: string): Promise<string[]> {
  const items = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  return items.map((item: { line: string }) => item.line)
}

async function ended(server: TestServer, id: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const deployment = (await server.api('GET', `/api/v1/deployments/${id}`)).body
      return ['succeeded', 'failed', 'canceled'].includes(deployment.state) ? deployment : undefined
    },
    { timeoutMs, what: `deployment ${id} to end` },
  )
}

test('/readyz answers 503 naming the engine socket while the engine is gone, 200 once it is back', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const { server, socket, stop, resume } = await serverThroughProxy(t, engine)
  const ready = async () => {
    const response = await fetch(`${server.url}/readyz`)
    return { status: response.status, body: await response.json() }
  }
  assert.deepEqual(await ready(), {
    status: 200,
    // DOCKER_HOST enables swarm beside docker; both ping the same socket.
    body: {
      status: 'ready',
      checks: { store: 'ok', process: 'ok', command: 'ok', docker: 'ok', swarm: 'ok' },
    },
  })

  await stop()

  const down = await ready()
  assert.equal(down.status, 503)
  assert.equal(down.body.status, 'not ready')
  for (const driver of ['docker', 'swarm']) {
    assert.match(
      down.body.checks[driver],
      new RegExp(`unix://${socket}.*cannot be reached \\(ENOENT\\)`),
    )
  }
  assert.equal(down.body.checks.store, 'ok')

  await resume()

  assert.equal((await ready()).status, 200)
})

test('a redeploy against a stopped engine retries as the service says, fails naming the socket, and the next works', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const { server, socket, stop, resume } = await serverThroughProxy(t, engine)
  const url = await containerService(server, engine, { retries: 2, retryBackoff: '200ms' })
  await stop()

  const started = Date.now()
  const failed = await server.hook(`${url}?wait=30s`)

  assert.equal(failed.status, 500, JSON.stringify(failed.body))
  const id = failed.body.deployments[0].id as string
  const deployment = (await server.api('GET', `/api/v1/deployments/${id}`)).body
  assert.equal(deployment.state, 'failed')
  assert.match(
    deployment.error,
    new RegExp(`the Docker engine at unix://${socket} cannot be reached`),
  )
  assert.ok(Date.now() - started >= 600, 'waited 200 ms, then 400 ms, between the three attempts')
  const log = await logOf(server, id)
  const retries = log.filter((line) => line.startsWith('retry '))
  assert.equal(retries.length, 2, log.join('\n'))
  assert.match(
    retries[0]!,
    new RegExp(
      `^retry 1 of 2 in 200ms \\(deploy.retries\\), after: the Docker engine at unix://${socket}`,
    ),
  )
  assert.match(retries[1]!, /^retry 2 of 2 in 400ms /)
  assert.equal(
    log.filter((line) => line.startsWith('redeploy failed after')).length,
    3,
    log.join('\n'),
  )

  await resume()
  const next = await server.hook(`${url}?wait=30s`)

  assert.equal(next.status, 200, JSON.stringify(next.body))
  assert.equal(next.body.deployments[0].state, 'succeeded')
})

test('an engine back during the backoff lets the retry succeed within the same deployment', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const { server, stop, resume } = await serverThroughProxy(t, engine)
  const url = await containerService(server, engine, { retries: 3, retryBackoff: '1s' })
  await stop()

  const queued = await server.hook(url)
  const id = queued.body.deployments[0].id as string
  await waitFor(
    async () => (await logOf(server, id)).some((line) => line.startsWith('retry 1 of 3')),
    {
      what: 'the first retry to be announced',
    },
  )
  await resume()

  const deployment = await ended(server, id)
  assert.equal(deployment.state, 'succeeded', deployment.error)
  const log = await logOf(server, id)
  assert.equal(log.filter((line) => line.startsWith('retry ')).length, 1, log.join('\n'))
  assert.ok(
    log.some((line) => line.startsWith('redeploy finished in')),
    log.join('\n'),
  )
})

test('a cancel ends a deployment waiting between retries at once', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const { server, stop } = await serverThroughProxy(t, engine)
  const url = await containerService(server, engine, { retries: 5, retryBackoff: '1m' })
  await stop()
  const id = (await server.hook(url)).body.deployments[0].id as string
  await waitFor(
    async () => (await logOf(server, id)).some((line) => line.startsWith('retry 1 of 5')),
    {
      what: 'the first retry to be announced',
    },
  )

  const asked = Date.now()
  await server.api('POST', `/api/v1/deployments/${id}/cancel`)

  const deployment = await ended(server, id, 5000)
  assert.equal(deployment.state, 'canceled')
  assert.ok(Date.now() - asked < 5000, 'not after the minute of backoff')
})

test('deploy.retries and deploy.retryBackoff are checked when a service is written', async (t) => {
  const server = await startTestServer(t)
  const write = (deploy: Record<string, unknown>) =>
    server.api('POST', '/api/v1/services', {
      name: 'web',
      driver: 'command',
      target: { redeploy: 'true' },
      deploy,
    })
  for (const [deploy, field] of [
    [{ retries: -1 }, 'retries'],
    [{ retries: 1.5 }, 'retries'],
    [{ retryBackoff: 'soon' }, 'retryBackoff'],
  ] as const) {
    const answer = await write(deploy)
    assert.equal(answer.status, 400, JSON.stringify(answer.body))
    assert.match(JSON.stringify(answer.body), new RegExp(field))
  }
  const written = await write({ retries: 3 })
  assert.equal(written.status, 201, JSON.stringify(written.body))
  assert.equal(written.body.deploy.retries, 3)
  assert.equal(written.body.deploy.retryBackoff, undefined, 'the 5s default is not written back')
})
