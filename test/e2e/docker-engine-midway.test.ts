/** Proves the promise: a Docker engine stopped mid-deployment leaves containers whole. */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { before, describe, it } from 'node:test'

import { type EngineProxy, engineProxy } from '../support/engine-proxy.ts'
import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { BASE_IMAGE, privateDockerd } from '../support/private-dockerd.ts'
import { startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const handle = await privateDockerd()
const IDLE = `trap 'exit 0' TERM; sleep 100000 & wait`
// Tag 2 is healthy only 3 s after it starts: the engine goes away while the driver waits.
const IMAGES = {
  'dh-mid:1': `HEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true\nCMD ["sh", "-c", "${IDLE}"]`,
  'dh-mid:2': `HEALTHCHECK --interval=100ms --timeout=2s --retries=600 CMD test -f /tmp/ready\nCMD ["sh", "-c", "(sleep 3; touch /tmp/ready) & ${IDLE}"]`,
}
const SERVICE_LABEL = 'dev.deckhand.test-service'

before(async () => {
  if (handle.engine) {
    for (const [name, body] of Object.entries(IMAGES)) {
      await handle.engine.buildImage(name, `FROM ${BASE_IMAGE}\n${body}\n`)
    }
  }
})

let serial = 0
const unique = (prefix: string): string => `${prefix}-${handle.engine?.runId ?? 'x'}-${++serial}`

interface Setup extends EngineProxy {
  server: TestServer
  /** The service's container name, also the value of its SERVICE_LABEL. */
  name: string
  oldId: string
  url: string
}

/** A server reaching the engine through a stoppable proxy, and a docker service on dh-mid:1. */
async function serviceThroughProxy(
  t: TestContext,
  engine: PrivateDockerd,
  deploy: Record<string, unknown>,
): Promise<Setup> {
  t.after(() => engine.cleanup())
  const proxy = await engineProxy(t, engine.socketPath)
  const server = await startTestServer(t, {
    env: { DOCKER_HOST: `unix://${proxy.socket}`, DECKHAND_DRIVERS: 'process,command,docker' },
  })
  const name = unique('web')
  const oldId = await engine.run([
    '--name',
    name,
    '--network',
    'none',
    '--label',
    `${SERVICE_LABEL}=${name}`,
    'dh-mid:1',
  ])
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container: name },
    image: 'dh-mid',
    deploy,
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const trigger = await server.api('POST', '/api/v1/services/web/triggers', { action: 'redeploy' })
  return { ...proxy, server, name, oldId, url: trigger.body.url as string }
}

interface Seen {
  id: string
  name: string
  image: string
  state: string
}

/** Every container carrying the service's label or a name derived from its own, by name. */
async function containersOf(engine: PrivateDockerd, name: string): Promise<Seen[]> {
  const format = '{{.ID}} {{.Names}} {{.Image}} {{.State}}'
  const list = (filter: string) =>
    engine.docker(['ps', '-a', '--no-trunc', '--filter', filter, '--format', format])
  const lines = await Promise.all([list(`label=${SERVICE_LABEL}=${name}`), list(`name=${name}`)])
  const seen = new Map<string, Seen>()
  for (const line of lines.join('\n').split('\n').filter(Boolean)) {
    const [id, names, image, state] = line.split(' ') as [string, string, string, string]
    seen.set(id, { id, name: names, image, state })
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name))
}

async function logOf(server: TestServer, id: string): Promise<string[]> {
  const items = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  return items.map((item: { line: string }) => item.line)
}

async function deploymentOf(server: TestServer, id: string) {
  return (await server.api('GET', `/api/v1/deployments/${id}`)).body
}

const isEnded = (state: string): boolean => ['succeeded', 'failed', 'canceled'].includes(state)

describe('promise: a Docker engine stopped mid-deployment leaves containers whole', () => {
  for (const order of ['start-first', 'stop-first']) {
    it(`an engine gone while a ${order} redeploy waits for health fails it naming the socket, leaves the old container, and the next redeploy works`, async (t) => {
      const engine = handle.use(t)
      if (!engine) {
        return
      }
      const setup = await serviceThroughProxy(t, engine, { order, healthTimeout: '60s' })
      const { server, name, oldId, url } = setup

      const queued = await server.hook(`${url}?tag=2`)
      assert.equal(queued.status, 202, JSON.stringify(queued.body))
      const id = queued.body.deployments[0].id as string
      await waitFor(
        async () =>
          (await logOf(server, id)).some((line) =>
            /waiting up to .* for its health check/.test(line),
          ),
        { timeoutMs: 30_000, what: 'the driver to wait for the new container health check' },
      )
      await setup.stop()
      // The driver either ends the deployment at once or says it waits for the engine; either
      // way the engine comes back before the containers are looked at.
      await waitFor(
        async () =>
          isEnded((await deploymentOf(server, id)).state) ||
          (await logOf(server, id)).some((line) => /waiting .* for the Docker engine/.test(line)),
        { timeoutMs: 30_000, what: 'the driver to notice the engine is gone' },
      )
      await setup.resume()

      const deployment = await waitFor(
        async () => {
          const seen = await deploymentOf(server, id)
          return isEnded(seen.state) ? seen : undefined
        },
        { timeoutMs: 30_000, what: `deployment ${id} to end` },
      )
      const log = (await logOf(server, id)).join('\n')
      assert.equal(deployment.state, 'failed', log)
      assert.match(
        deployment.error,
        new RegExp(`the Docker engine at unix://${setup.socket} cannot be reached`),
      )
      const left = await containersOf(engine, name)
      const whole =
        left.length === 1 &&
        left[0]!.name === name &&
        left[0]!.state === 'running' &&
        ((left[0]!.id === oldId && left[0]!.image === 'dh-mid:1') || left[0]!.image === 'dh-mid:2')
      assert.ok(whole, `old or new, never half-way: ${JSON.stringify(left)}\n${log}`)

      const next = await server.hook(`${url}?tag=2&wait=60s`)

      assert.equal(next.status, 200, JSON.stringify(next.body))
      assert.equal(next.body.deployments[0].state, 'succeeded')
      const after = await containersOf(engine, name)
      assert.deepEqual(
        after.map(({ name, image, state }) => ({ name, image, state })),
        [{ name, image: 'dh-mid:2', state: 'running' }],
      )
    })
  }

  it('an engine gone longer than the health timeout fails the redeploy, and the next one removes what it left before it works', async (t) => {
    const engine = handle.use(t)
    if (!engine) {
      return
    }
    const setup = await serviceThroughProxy(t, engine, { healthTimeout: '5s' })
    const { server, name, url } = setup
    const id = (await server.hook(`${url}?tag=2`)).body.deployments[0].id as string
    await waitFor(
      async () => (await logOf(server, id)).some((line) => /for its health check/.test(line)),
      { timeoutMs: 30_000, what: 'the driver to wait for the new container health check' },
    )
    await setup.stop()
    const deployment = await waitFor(
      async () => {
        const seen = await deploymentOf(server, id)
        return isEnded(seen.state) ? seen : undefined
      },
      { timeoutMs: 30_000, what: `deployment ${id} to end while the engine is gone` },
    )
    assert.equal(deployment.state, 'failed')
    assert.match(
      deployment.error,
      new RegExp(`the Docker engine at unix://${setup.socket} cannot be reached`),
    )
    assert.ok(
      (await logOf(server, id)).includes(
        `${name}: the engine did not come back; the next deployment undoes this swap first`,
      ),
    )
    await setup.resume()

    const next = await server.hook(`${url}?tag=2&wait=60s`)

    assert.equal(next.status, 200, JSON.stringify(next.body))
    const log = (await logOf(server, next.body.deployments[0].id)).join('\n')
    assert.match(log, new RegExp(`removed ${name}--deckhand-next-\\w+, the new container`))
    const after = await containersOf(engine, name)
    assert.deepEqual(
      after.map(({ name, image, state }) => ({ name, image, state })),
      [{ name, image: 'dh-mid:2', state: 'running' }],
    )
  })

  it('a swap an engine left half-way (old parked and stopped, new under its temporary name) is undone by the next redeploy, which then works', async (t) => {
    const engine = handle.use(t)
    if (!engine) {
      return
    }
    const setup = await serviceThroughProxy(t, engine, { healthTimeout: '60s' })
    const { server, name, oldId, url } = setup
    // What the engine holds when it vanished between renaming the old container away and
    // giving the new one its name: nobody holds the service's name.
    await engine.docker(['stop', '-t', '1', name])
    await engine.docker(['rename', name, `${name}--deckhand-old-abc123`])
    await engine.run([
      ...['--name', `${name}--deckhand-next-abc123`, '--network', 'none'],
      ...['--label', `${SERVICE_LABEL}=${name}`, 'dh-mid:1'],
    ])

    const next = await server.hook(`${url}?tag=2&wait=60s`)

    assert.equal(next.status, 200, JSON.stringify(next.body))
    assert.equal(next.body.deployments[0].state, 'succeeded')
    const log = (await logOf(server, next.body.deployments[0].id)).join('\n')
    assert.match(log, new RegExp(`removed ${name}--deckhand-next-abc123`))
    assert.match(log, new RegExp(`restored ${oldId.slice(0, 12)} as ${name}`))
    const after = await containersOf(engine, name)
    assert.deepEqual(
      after.map(({ name, image, state }) => ({ name, image, state })),
      [{ name, image: 'dh-mid:2', state: 'running' }],
    )
  })
})
