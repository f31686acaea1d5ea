/** Trigger URLs drive the docker driver through a real server: redeploys, health failures, scaling. */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import type { ContainerInspect } from '../../src/drivers/docker/docker-client.ts'
import { readFixture } from '../fixtures/senders/load.ts'
import { APP, buildImagesBefore, serverOn, uniqueNames } from '../support/dockerd-setup.ts'
import type { PrivateDockerd } from '../support/private-dockerd.ts'
import { privateDockerd, RUN_LABEL } from '../support/private-dockerd.ts'
import type { TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const handle = await privateDockerd()
// Every good image has a fast HEALTHCHECK, so the driver waits ~100 ms per replica, not 2 s.
const HEALTHY = 'HEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true'
// The repository the Docker Hub fixture names, so its push matches the service's image.
const IMAGES: Record<string, string> = {
  'acme/web:1': `ENV APP_VERSION=1\n${HEALTHY}\n${APP}`,
  'acme/web:2': `ENV APP_VERSION=2\n${HEALTHY}\n${APP}`,
  'acme/web:1.4.2': `ENV APP_VERSION=1.4.2\n${HEALTHY}\n${APP}`,
  'acme/web:bad': `ENV APP_VERSION=bad\nHEALTHCHECK --interval=100ms --timeout=2s --retries=2 CMD sh -c 'echo database unreachable; exit 1'\n${APP}`,
}
const COMPOSE = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
}

buildImagesBefore(handle, IMAGES)
const unique = uniqueNames(handle)

async function inspect(engine: PrivateDockerd, name: string): Promise<ContainerInspect> {
  return (JSON.parse(await engine.docker(['inspect', name])) as ContainerInspect[])[0]!
}

function envOf(container: ContainerInspect): Record<string, string> {
  return Object.fromEntries(
    (container.Config.Env ?? []).map((entry) => [
      entry.split('=')[0]!,
      entry.slice(entry.indexOf('=') + 1),
    ]),
  )
}

async function trigger(server: TestServer, service: string, body: object): Promise<string> {
  const created = await server.api('POST', `/api/v1/services/${service}/triggers`, body)
  assert.equal(created.status, 201, JSON.stringify(created.body))
  return created.body.url as string
}

async function logOf(server: TestServer, id: string): Promise<string> {
  const lines = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  return lines.map((line: { line: string }) => line.line).join('\n')
}

test('a trigger redeploys a container to a new tag, keeping name, env, mounts and labels', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const server = await serverOn(t, engine)
  const name = unique('web')
  const bind = await mkdtemp(join(tmpdir(), 'dh-bind-'))
  t.after(() => rm(bind, { recursive: true, force: true }))
  await writeFile(join(bind, 'config.txt'), 'from the host\n')
  const volume = unique('vol')
  await engine.docker(['volume', 'create', '--label', `${RUN_LABEL}=${engine.runId}`, volume])
  await engine.run([
    ...['--name', name, '--network', 'none', '-e', 'GREETING=hello', '--label', 'team=payments'],
    ...['-v', `${bind}:/data`, '--mount', `type=volume,src=${volume},dst=/vol`],
    'acme/web:1',
  ])
  await engine.docker(['exec', name, 'sh', '-c', 'echo kept > /vol/file'])
  const before = await inspect(engine, name)
  const created = await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container: name },
    image: 'acme/web',
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const url = await trigger(server, 'web', { name: 'ci', action: 'redeploy' })

  const answer = await server.hook(`${url}?tag=2&wait=60s`, { body: 'built by CI' })

  assert.equal(answer.status, 200, JSON.stringify(answer.body))
  assert.equal(answer.body.status, 'succeeded')
  const deploymentId = answer.body.deployments[0].id as string
  const after = await inspect(engine, name)
  assert.notEqual(after.Id, before.Id)
  assert.equal(after.Config.Image, 'acme/web:2')
  const env = envOf(after)
  assert.equal(env.GREETING, 'hello')
  assert.equal(env.APP_VERSION, '2')
  assert.equal(env.DECKHAND_DEPLOYMENT_ID, deploymentId)
  assert.equal(env.DECKHAND_TRIGGER_NAME, 'ci')
  assert.equal(env.DECKHAND_IMAGE_TAG, '2')
  assert.equal(env.DECKHAND_TRIGGER_BODY, 'built by CI')
  assert.equal(after.Config.Labels?.team, 'payments')
  assert.equal(after.Config.Labels?.[RUN_LABEL], engine.runId)
  const mounts = Object.fromEntries(after.Mounts.map((mount) => [mount.Destination, mount]))
  assert.equal(mounts['/data']?.Source, bind)
  assert.equal(mounts['/vol']?.Name, volume)
  assert.equal(
    await engine.docker(['exec', name, 'cat', '/vol/file', '/data/config.txt']),
    'kept\nfrom the host',
  )
  assert.equal((await server.api('GET', '/api/v1/services/web')).body.tag, '2')
  assert.match(await logOf(server, deploymentId), /redeploying web to tag 2 on docker/)

  // Docker Hub's own payload, replayed as captured: acme/web pushed as 1.4.2.
  const hub = readFixture('dockerhub-push')
  const hubUrl = await trigger(server, 'web', { name: 'docker-hub', action: 'redeploy' })
  const pushed = await server.hook(`${hubUrl}?wait=60s`, { body: hub.body, headers: hub.headers })
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body))
  const afterHub = await inspect(engine, name)
  assert.equal(afterHub.Config.Image, 'acme/web:1.4.2')
  assert.equal(envOf(afterHub).DECKHAND_TRIGGER_NAME, 'docker-hub')
  assert.equal(envOf(afterHub).DECKHAND_IMAGE_TAG, '1.4.2')
  assert.equal(envOf(afterHub).GREETING, 'hello')
  assert.equal(afterHub.Config.Labels?.team, 'payments')
  assert.equal(JSON.parse(envOf(afterHub).DECKHAND_TRIGGER_BODY ?? '{}').push_data?.tag, '1.4.2')
})

test('a trigger to an image whose HEALTHCHECK fails leaves the old container and fails the deployment', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const server = await serverOn(t, engine)
  const name = unique('web')
  await engine.run(['--name', name, '--network', 'none', 'acme/web:1'])
  const before = await inspect(engine, name)
  await server.api('POST', '/api/v1/services', {
    name: 'web',
    driver: 'docker',
    target: { container: name },
    image: 'acme/web',
    deploy: { healthTimeout: '20s' },
  })
  const url = await trigger(server, 'web', { action: 'redeploy' })

  const answer = await server.hook(`${url}?tag=bad&wait=60s`)

  assert.equal(answer.status, 500, JSON.stringify(answer.body))
  assert.equal(answer.body.status, 'failed')
  const id = answer.body.deployments[0].id as string
  const deployment = (await server.api('GET', `/api/v1/deployments/${id}`)).body
  assert.equal(deployment.state, 'failed')
  assert.match(deployment.error, /health/i)
  assert.match(deployment.error, /database unreachable/)
  const after = await inspect(engine, name)
  assert.equal(after.Id, before.Id, 'the old container is the one still running')
  assert.equal(after.State.Running, true)
  assert.equal(after.Config.Image, 'acme/web:1')
  assert.notEqual((await server.api('GET', '/api/v1/services/web')).body.tag, 'bad')
})

test('scale-up and scale-down triggers take a Compose service 1 → 3 → 2 with numbered replicas', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const server = await serverOn(t, engine)
  const project = unique('shop')
  await engine.run([
    ...['--name', `${project}-web-1`, '--network', 'none', '-e', 'GREETING=hello'],
    ...['--label', `${COMPOSE.project}=${project}`, '--label', `${COMPOSE.service}=web`],
    ...['--label', `${COMPOSE.number}=1`, '--label', 'com.docker.compose.oneoff=False'],
    'acme/web:1',
  ])
  await server.api('POST', '/api/v1/services', {
    name: 'shop-web',
    driver: 'docker',
    target: { project, service: 'web' },
    image: 'acme/web',
    scale: { min: 1, max: 5 },
  })
  const up = await trigger(server, 'shop-web', { action: 'scale-up', by: 2, cooldown: 0 })
  const down = await trigger(server, 'shop-web', { action: 'scale-down', by: 1, cooldown: 0 })
  const replicas = async () => {
    const out = await engine.docker([
      ...['ps', '--format', `{{.Names}} {{.Label "${COMPOSE.number}"}} {{.Label "${RUN_LABEL}"}}`],
      ...['--filter', `label=${COMPOSE.project}=${project}`],
    ])
    return out.split('\n').filter(Boolean).sort()
  }

  const scaledUp = await server.hook(`${up}?wait=60s`)

  assert.equal(scaledUp.status, 200, JSON.stringify(scaledUp.body))
  assert.deepEqual(
    await replicas(),
    [1, 2, 3].map((n) => `${project}-web-${n} ${n} ${engine.runId}`),
  )
  for (const n of [2, 3]) {
    const clone = await inspect(engine, `${project}-web-${n}`)
    assert.equal(clone.Config.Labels?.[COMPOSE.service], 'web')
    assert.equal(envOf(clone).GREETING, 'hello')
    assert.equal(envOf(clone).DECKHAND_DEPLOYMENT_ID, scaledUp.body.deployments[0].id)
  }
  assert.equal((await server.api('GET', '/api/v1/services/shop-web')).body.replicas, 3)

  const scaledDown = await server.hook(`${down}?wait=60s`)

  assert.equal(scaledDown.status, 200, JSON.stringify(scaledDown.body))
  assert.deepEqual(
    await replicas(),
    [1, 2].map((n) => `${project}-web-${n} ${n} ${engine.runId}`),
  )
  assert.equal((await server.api('GET', '/api/v1/services/shop-web')).body.replicas, 2)

  // The manual verb lands on the same numbering.
  const manual = await server.api('POST', '/api/v1/services/shop-web/deployments', {
    action: 'scale',
    replicas: 4,
  })
  assert.equal(manual.status, 202, JSON.stringify(manual.body))
  const id = manual.body.deployments[0].id as string
  const done = await waitFor(
    async () => {
      const d = (await server.api('GET', `/api/v1/deployments/${id}`)).body
      return d.state === 'running' || d.state === 'queued' ? undefined : d
    },
    { timeoutMs: 60_000, what: 'the manual scale to end' },
  )
  assert.equal(done.state, 'succeeded', done.error)
  assert.deepEqual(
    await replicas(),
    [1, 2, 3, 4].map((n) => `${project}-web-${n} ${n} ${engine.runId}`),
  )
})
