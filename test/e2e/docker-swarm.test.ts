/** Trigger URLs drive the swarm driver through a real server: redeploy, scale, Swarm's rollback. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { SwarmServiceInspect } from '../../src/drivers/docker/docker-client.ts'
import { APP, buildImagesBefore, serverOn, uniqueNames } from '../support/dockerd-setup.ts'
import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { privateDockerd, RUN_LABEL } from '../support/private-dockerd.ts'
import { startRegistry } from '../support/registry.ts'
import type { TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const handle = await privateDockerd({ swarm: true })
const IMAGES: Record<string, string> = {
  'dh-app:1': `ENV APP_VERSION=1\n${APP}`,
  'dh-app:2': `ENV APP_VERSION=2\nHEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true\n${APP}`,
  'dh-app:bad': `ENV APP_VERSION=bad\nHEALTHCHECK --interval=100ms --timeout=2s --retries=2 CMD sh -c 'echo database unreachable; exit 1'\n${APP}`,
}

buildImagesBefore(handle, IMAGES)
const unique = uniqueNames(handle)

/** A host-networked service, start-first, that Swarm rolls back when an update fails. */
async function createSwarmService(engine: PrivateDockerd, replicas: number): Promise<string> {
  const name = unique('svc')
  await engine.docker([
    ...['service', 'create', '--detach', '--no-resolve-image', '--name', name],
    ...['--label', `${RUN_LABEL}=${engine.runId}`],
    ...['--container-label', `${RUN_LABEL}=${engine.runId}`],
    ...['--network', 'host', '--replicas', String(replicas), '--stop-grace-period', '2s'],
    ...['--update-parallelism', '1', '--update-delay', '0s', '--update-monitor', '1s'],
    ...['--update-order', 'start-first', '--update-failure-action', 'rollback'],
    ...['--rollback-monitor', '1s', '--rollback-parallelism', '0', '-e', 'GREETING=hello'],
    'dh-app:1',
  ])
  await waitFor(async () => (await running(engine, name)).length === replicas, {
    timeoutMs: 30_000,
    what: `${replicas} running tasks of ${name}`,
  })
  return name
}

/** The images of the service's running task containers. */
async function running(engine: PrivateDockerd, name: string): Promise<string[]> {
  const out = await engine.docker([
    ...['ps', '--format', '{{.Image}}'],
    ...['--filter', `label=com.docker.swarm.service.name=${name}`, '--filter', 'status=running'],
  ])
  return out.split('\n').filter(Boolean)
}

async function serviceInspect(engine: PrivateDockerd, name: string): Promise<SwarmServiceInspect> {
  return (
    JSON.parse(await engine.docker(['service', 'inspect', name])) as SwarmServiceInspect[]
  )[0]!
}

async function trigger(server: TestServer, service: string, body: object): Promise<string> {
  const created = await server.api('POST', `/api/v1/services/${service}/triggers`, body)
  assert.equal(created.status, 201, JSON.stringify(created.body))
  return created.body.url as string
}

test('a Swarm service redeploys to a new tag and scales through its triggers, and is reported', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const server = await serverOn(t, engine)
  const name = await createSwarmService(engine, 1)
  const created = await server.api('POST', '/api/v1/services', {
    name: 'api',
    driver: 'swarm',
    target: { service: name },
    image: 'dh-app',
    scale: { min: 1, max: 4 },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const redeploy = await trigger(server, 'api', { name: 'ci', action: 'redeploy' })

  const answer = await server.hook(`${redeploy}?tag=2&wait=90s`)

  assert.equal(answer.status, 200, JSON.stringify(answer.body))
  assert.equal(answer.body.deployments[0].state, 'succeeded')
  const spec = (await serviceInspect(engine, name)).Spec.TaskTemplate?.ContainerSpec
  assert.equal(spec?.Image, 'dh-app:2')
  assert.ok(spec?.Env?.includes('GREETING=hello'))
  assert.ok(spec?.Env?.includes(`DECKHAND_DEPLOYMENT_ID=${answer.body.deployments[0].id}`))
  assert.ok(spec?.Env?.includes('DECKHAND_TRIGGER_NAME=ci'))
  assert.deepEqual(await running(engine, name), ['dh-app:2'])
  assert.equal((await server.api('GET', '/api/v1/services/api')).body.tag, '2')

  const up = await trigger(server, 'api', { action: 'scale-up', by: 2, cooldown: 0 })
  const scaled = await server.hook(`${up}?wait=90s`)

  assert.equal(scaled.status, 200, JSON.stringify(scaled.body))
  assert.equal((await serviceInspect(engine, name)).Spec.Mode?.Replicated?.Replicas, 3)
  assert.deepEqual(await running(engine, name), ['dh-app:2', 'dh-app:2', 'dh-app:2'])
  assert.equal((await server.api('GET', '/api/v1/services/api')).body.replicas, 3)
  const status = await server.api('GET', '/api/v1/deployments?service=api')
  assert.deepEqual(
    status.body.items.map((d: { action: string; state: string }) => `${d.action} ${d.state}`),
    ['scale succeeded', 'redeploy succeeded'],
  )
})

test('a Swarm update the engine rolls back is reported as rolled back through the trigger', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const server = await serverOn(t, engine)
  const name = await createSwarmService(engine, 1)
  await server.api('POST', '/api/v1/services', {
    name: 'api',
    driver: 'swarm',
    target: { service: name },
    image: 'dh-app',
  })
  const url = await trigger(server, 'api', { action: 'redeploy' })

  const answer = await server.hook(`${url}?tag=bad&wait=90s`)

  assert.equal(answer.status, 500, JSON.stringify(answer.body))
  const deployment = (
    await server.api('GET', `/api/v1/deployments/${answer.body.deployments[0].id}`)
  ).body
  assert.equal(deployment.state, 'failed')
  assert.match(deployment.error, /^the update was rolled back by Swarm/)
  const current = await serviceInspect(engine, name)
  assert.equal(current.Spec.TaskTemplate?.ContainerSpec?.Image, 'dh-app:1')
  assert.equal(current.UpdateStatus?.State, 'rollback_completed')
  await waitFor(async () => (await running(engine, name)).every((image) => image === 'dh-app:1'), {
    what: 'only dh-app:1 tasks after the rollback',
  })
  assert.notEqual((await server.api('GET', '/api/v1/services/api')).body.tag, 'bad')
})

test('a Swarm redeploy resolves the tag at the registry and pins the service spec to its digest', async (t) => {
  const engine = handle.use(t)
  const registry = engine && (await startRegistry(t, { engine }))
  if (!engine || !registry) {
    return
  }
  const server = await serverOn(t, engine)
  await registry.push(engine, 'dh-app:1', 'acme/app', 'latest')
  const name = unique('svc')
  await engine.docker([
    ...['service', 'create', '--detach', '--no-resolve-image', '--name', name],
    ...[
      '--label',
      `${RUN_LABEL}=${engine.runId}`,
      '--container-label',
      `${RUN_LABEL}=${engine.runId}`,
    ],
    ...[
      '--network',
      'host',
      '--replicas',
      '1',
      '--stop-grace-period',
      '2s',
      '--update-monitor',
      '1s',
    ],
    `${registry.host}/acme/app:latest`,
  ])
  const created = await server.api('POST', '/api/v1/services', {
    name: 'api',
    driver: 'swarm',
    target: { service: name },
    image: `${registry.host}/acme/app`,
    deploy: { pull: 'always' },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  // :latest moves to a build with a HEALTHCHECK; the redeploy must run exactly that manifest.
  const moved = await registry.push(engine, 'dh-app:2', 'acme/app', 'latest')
  const redeploy = await trigger(server, 'api', { name: 'ci', action: 'redeploy' })

  const answer = await server.hook(`${redeploy}?tag=latest&wait=90s`)

  assert.equal(answer.status, 200, JSON.stringify(answer.body))
  const id = answer.body.deployments[0].id as string
  const deployment = (await server.api('GET', `/api/v1/deployments/${id}`)).body
  assert.equal(deployment.state, 'succeeded', deployment.error)
  assert.equal(deployment.image, `${registry.host}/acme/app:latest`)
  assert.equal(deployment.digest, moved)
  const spec = (await serviceInspect(engine, name)).Spec.TaskTemplate?.ContainerSpec?.Image
  assert.equal(spec, `${registry.host}/acme/app:latest@${moved}`)
})
