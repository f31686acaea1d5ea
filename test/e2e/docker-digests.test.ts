/**
 * Digests end to end: the real server, the private dockerd and a real distribution registry.
 * A tag is resolved to its manifest digest before anything is touched, the deployment records
 * image and digest, the container runs pinned, skipUnchanged and rollbacks go by digest.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { ContainerInspect } from '../../src/drivers/docker/docker-client.ts'
import { APP, buildImagesBefore, serverOn, uniqueNames } from '../support/dockerd-setup.ts'
import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { privateDockerd } from '../support/private-dockerd.ts'
import type { TestRegistry } from '../support/registry.ts'
import { startRegistry } from '../support/registry.ts'
import type { TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const handle = await privateDockerd()
const HEALTHY = 'HEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true'
// Two builds to push under one tag: `:latest` moves from the first to the second.
buildImagesBefore(handle, {
  'digest-src:1': `ENV APP_VERSION=1\n${HEALTHY}\n${APP}`,
  'digest-src:2': `ENV APP_VERSION=2\n${HEALTHY}\n${APP}`,
})
const unique = uniqueNames(handle)

interface Setup {
  engine: PrivateDockerd
  registry: TestRegistry
  server: TestServer
  container: string
  /** `127.0.0.1:<port>/acme/web`, the service's image. */
  image: string
  /** The digest `:latest` names at the start (digest-src:1). */
  first: string
}

/** A registry holding acme/web:latest, a container running it, a service on it. */
async function setup(
  t: import('node:test').TestContext,
  deploy: Record<string, unknown> = {},
): Promise<Setup | undefined> {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine }))
  if (!engine || !registry) {
    return undefined
  }
  const image = `${registry.host}/acme/web`
  const first = await registry.push(engine, 'digest-src:1', 'acme/web', 'latest')
  const server = await serverOn(t, engine)
  const container = unique('web')
  await engine.run(['--name', container, '--network', 'none', `${image}:latest`])
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container },
    image,
    tag: 'latest',
    deploy: { pull: 'always', ...deploy },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  return { engine, registry, server, container, image, first }
}

async function inspect(engine: PrivateDockerd, name: string): Promise<ContainerInspect> {
  return (JSON.parse(await engine.docker(['inspect', name])) as ContainerInspect[])[0]!
}

function versionOf(container: ContainerInspect): string | undefined {
  return container.Config.Env?.find((entry) => entry.startsWith('APP_VERSION='))?.slice(12)
}

/** Asks for a deployment (`path` under the service) and waits until it ends. */
async function deployAndWait(server: TestServer, path: string, body?: unknown): Promise<any> {
  const asked = await server.api('POST', `/api/v1/services/web/${path}`, body)
  assert.equal(asked.status, 202, JSON.stringify(asked.body))
  const id = asked.body.deployments[0].id as string
  return waitFor(
    async () => {
      const { body: deployment } = await server.api('GET', `/api/v1/deployments/${id}`)
      return ['succeeded', 'failed', 'canceled'].includes(deployment.state) ? deployment : undefined
    },
    { timeoutMs: 60_000, what: `deployment ${id} to end` },
  )
}

async function logOf(server: TestServer, id: string): Promise<string> {
  const lines = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  return lines.map((line: { line: string }) => line.line).join('\n')
}

test('a tag the registry does not know is refused with its answer, and nothing changes', async (t) => {
  const s = await setup(t)
  if (!s) {
    return
  }
  const before = await inspect(s.engine, s.container)

  const deployment = await deployAndWait(s.server, 'deployments', { tag: 'no-such-tag' })

  assert.equal(deployment.state, 'failed')
  assert.match(
    deployment.error,
    /tag no-such-tag of 127\.0\.0\.1:\d+\/acme\/web could not be resolved to a digest, so nothing was changed/,
  )
  assert.match(deployment.error, /answered 404 .*MANIFEST_UNKNOWN/)
  const after = await inspect(s.engine, s.container)
  assert.equal(after.Id, before.Id)
  assert.equal(after.State.Running, true)
  assert.equal(after.Config.Image, `${s.image}:latest`)
  assert.equal(deployment.digest, null)
  assert.equal((await s.server.api('GET', '/api/v1/services/web')).body.tag, 'latest')
})

test('a redeploy records the image and digest it ran, and the container runs pinned to it', async (t) => {
  const s = await setup(t)
  if (!s) {
    return
  }

  const deployment = await deployAndWait(s.server, 'deployments', { tag: 'latest' })

  assert.equal(deployment.state, 'succeeded', deployment.error)
  assert.equal(deployment.image, `${s.image}:latest`)
  assert.equal(deployment.digest, s.first)
  const after = await inspect(s.engine, s.container)
  assert.equal(after.Config.Image, `${s.image}:latest@${s.first}`)
  // The status shows both, tag and digest.
  const status = (await s.server.api('GET', '/api/v1/services/web')).body.status
  assert.equal(status.image, `${s.image}:latest@${s.first}`)
  assert.match(await logOf(s.server, deployment.id), new RegExp(`acme/web:latest is ${s.first}`))
})

test('with deploy.skipUnchanged a redeploy of the digest already running succeeds at once', async (t) => {
  const s = await setup(t, { skipUnchanged: true })
  if (!s) {
    return
  }
  const refused = await s.server.api('PATCH', '/api/v1/services/web', {
    deploy: { skipUnchanged: 'yes' },
  })
  assert.equal(refused.status, 400, JSON.stringify(refused.body))
  assert.match(refused.body.error, /skipUnchanged/)
  assert.equal((await s.server.api('GET', '/api/v1/services/web')).body.deploy.skipUnchanged, true)
  const first = await deployAndWait(s.server, 'deployments', { tag: 'latest' })
  assert.equal(first.state, 'succeeded', first.error)
  const deployed = await inspect(s.engine, s.container)

  const again = await deployAndWait(s.server, 'deployments', { tag: 'latest' })

  assert.equal(again.state, 'succeeded', again.error)
  assert.equal(again.digest, s.first)
  assert.match(await logOf(s.server, again.id), new RegExp(`already running ${s.first}`))
  assert.equal((await inspect(s.engine, s.container)).Id, deployed.Id)

  // A new digest under the same tag is deployed.
  const second = await s.registry.push(s.engine, 'digest-src:2', 'acme/web', 'latest')
  const moved = await deployAndWait(s.server, 'deployments', { tag: 'latest' })
  assert.equal(moved.state, 'succeeded', moved.error)
  assert.equal(moved.digest, second)
  const after = await inspect(s.engine, s.container)
  assert.notEqual(after.Id, deployed.Id)
  assert.equal(versionOf(after), '2')
})

test('a rollback after :latest moved runs the previous digest, not the tag', async (t) => {
  const s = await setup(t)
  if (!s) {
    return
  }
  const first = await deployAndWait(s.server, 'deployments', { tag: 'latest' })
  assert.equal(first.state, 'succeeded', first.error)
  const second = await s.registry.push(s.engine, 'digest-src:2', 'acme/web', 'latest')
  assert.notEqual(second, s.first)
  const moved = await deployAndWait(s.server, 'deployments', { tag: 'latest' })
  assert.equal(moved.state, 'succeeded', moved.error)
  assert.equal(versionOf(await inspect(s.engine, s.container)), '2')
  // The same push deployed twice (its notification and a manual deploy): not what ran before.
  const twice = await deployAndWait(s.server, 'deployments', { tag: 'latest' })
  assert.equal(twice.digest, second)

  const rollback = await deployAndWait(s.server, 'rollback')

  assert.equal(rollback.state, 'succeeded', rollback.error)
  assert.equal(rollback.action, 'rollback')
  assert.deepEqual(rollback.params, { tag: 'latest', digest: s.first })
  assert.equal(rollback.digest, s.first)
  const after = await inspect(s.engine, s.container)
  assert.equal(after.Config.Image, `${s.image}:latest@${s.first}`)
  assert.equal(versionOf(after), '1')
})
