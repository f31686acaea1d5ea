/** The docker driver against a private dockerd: redeploys, rollbacks, pull policies, scaling. */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { test } from 'node:test'

import { APP, buildImagesBefore, uniqueNames } from '../../../test/support/dockerd-setup.ts'
import type { PrivateDockerd } from '../../../test/support/private-dockerd.ts'
import { privateDockerd, RUN_LABEL } from '../../../test/support/private-dockerd.ts'
import { waitFor } from '../../../test/support/wait-for.ts'
import type { Service } from '../../model/index.ts'
import type { Driver } from '../driver.ts'
import { makeContext, makeService, runDriverContract } from '../driver-contract.ts'
import { GuardedDriver } from '../guarded-driver.ts'
import type { ContainerInspect } from './docker-client.ts'
import { DockerDriver } from './docker-driver.ts'
import { COMPOSE_NUMBER, COMPOSE_PROJECT, COMPOSE_SERVICE } from './docker-target.ts'

const handle = await privateDockerd()
// Short, so each replacement without a HEALTHCHECK costs a fraction of a second, not 2 s.
const SETTLE_MS = 300
const IMAGES: Record<string, string> = {
  'dh-app:1': `ENV APP_VERSION=1\n${APP}`,
  'dh-app:2': `ENV APP_VERSION=2\nHEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true\n${APP}`,
  'dh-app:bad': `ENV APP_VERSION=bad\nHEALTHCHECK --interval=100ms --timeout=2s --retries=2 CMD sh -c 'echo database unreachable; exit 1'\n${APP}`,
  'dh-app:slow': `ENV APP_VERSION=slow\nHEALTHCHECK --interval=100ms --start-period=120s CMD false\n${APP}`,
  'dh-app:picky': `ENV APP_VERSION=picky\nHEALTHCHECK --interval=100ms --timeout=2s --retries=2 CMD test -f /data/ok\n${APP}`,
}

buildImagesBefore(handle, IMAGES)
const unique = uniqueNames(handle)

async function inspect(engine: PrivateDockerd, name: string): Promise<ContainerInspect> {
  return (JSON.parse(await engine.docker(['inspect', name])) as ContainerInspect[])[0]!
}

async function namesMatching(engine: PrivateDockerd, filter: string): Promise<string[]> {
  const out = await engine.docker(['ps', '-a', '--format', '{{.Names}}', '--filter', filter])
  return out.split('\n').filter(Boolean).sort()
}

function envOf(container: ContainerInspect): Record<string, string> {
  return Object.fromEntries(
    (container.Config.Env ?? []).map((entry) => [
      entry.split('=')[0]!,
      entry.slice(entry.indexOf('=') + 1),
    ]),
  )
}

function dockerService(fields: Partial<Service> & Pick<Service, 'target'>): Service {
  return makeService({ name: unique('svc'), driver: 'docker', image: 'dh-app', ...fields })
}

/** Starts `count` containers labelled as Compose replicas 1..count of project/service. */
async function composeReplicas(
  engine: PrivateDockerd,
  project: string,
  count: number,
  extra: string[] = [],
): Promise<void> {
  for (let number = 1; number <= count; number++) {
    await engine.run([
      '--name',
      `${project}-web-${number}`,
      '--network',
      'none',
      '--label',
      `${COMPOSE_PROJECT}=${project}`,
      '--label',
      `${COMPOSE_SERVICE}=web`,
      '--label',
      `${COMPOSE_NUMBER}=${number}`,
      '--label',
      'com.docker.compose.oneoff=False',
      ...extra,
      'dh-app:1',
    ])
  }
}

/** Wrapped as the server runs it: a throw of the driver is recorded by GuardedDriver. */
function driverFor(engine: PrivateDockerd): Driver {
  return new GuardedDriver(new DockerDriver({ socketPath: engine.socketPath, settleMs: SETTLE_MS }))
}

const cleanAfter = (t: TestContext, engine: PrivateDockerd): void => {
  t.after(() => engine.cleanup())
}

test('a redeploy to a new tag keeps the name, env, mounts and labels and adds the trigger env', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = unique('web')
  const dataDir = await mkdtemp(join(tmpdir(), 'dh-bind-'))
  t.after(() => rm(dataDir, { recursive: true, force: true }))
  await writeFile(join(dataDir, 'config.txt'), 'from the host\n')
  const volume = unique('vol')
  await engine.docker(['volume', 'create', '--label', `${RUN_LABEL}=${engine.runId}`, volume])
  await engine.run([
    '--name',
    name,
    '--network',
    'none',
    '--hostname',
    'web-host',
    '-e',
    'GREETING=hello',
    '--label',
    'team=payments',
    '--restart',
    'unless-stopped',
    '-v',
    `${dataDir}:/data`,
    '--mount',
    `type=volume,src=${volume},dst=/vol`,
    '-v',
    '/anon',
    '-w',
    '/data',
    '--user',
    '0:0',
    'dh-app:1',
  ])
  await engine.docker(['exec', name, 'sh', '-c', 'echo kept > /anon/file; echo kept > /vol/file'])
  const before = await inspect(engine, name)
  const service = dockerService({ target: { container: name } })
  const { ctx, lines } = makeContext()
  const env = { DECKHAND_DEPLOYMENT_ID: ctx.deploymentId, DECKHAND_IMAGE_TAG: '2' }

  const outcome = await driverFor(engine).redeploy(service, { tag: '2', env }, ctx)

  assert.deepEqual(outcome, { state: 'succeeded', replicas: 1, tag: '2' }, lines.join('\n'))
  const after = await inspect(engine, name)
  assert.notEqual(after.Id, before.Id)
  assert.equal(after.Config.Image, 'dh-app:2')
  const afterEnv = envOf(after)
  assert.equal(afterEnv.GREETING, 'hello')
  assert.equal(afterEnv.DECKHAND_DEPLOYMENT_ID, ctx.deploymentId)
  assert.equal(afterEnv.DECKHAND_IMAGE_TAG, '2')
  assert.equal(afterEnv.APP_VERSION, '2', 'the new image supplies its own defaults')
  assert.equal(after.Config.Labels?.team, 'payments')
  assert.equal(after.Config.Labels?.[RUN_LABEL], engine.runId)
  assert.equal(after.Config.Hostname, 'web-host')
  assert.equal(after.Config.WorkingDir, '/data')
  assert.equal(after.Config.User, '0:0')
  assert.equal(
    (after.HostConfig as { RestartPolicy?: { Name?: string } }).RestartPolicy?.Name,
    'unless-stopped',
  )
  const mounts = Object.fromEntries(after.Mounts.map((mount) => [mount.Destination, mount]))
  assert.equal(mounts['/data']?.Source, dataDir)
  assert.equal(mounts['/vol']?.Name, volume)
  const anonBefore = before.Mounts.find((mount) => mount.Destination === '/anon')
  assert.equal(mounts['/anon']?.Name, anonBefore?.Name, 'the anonymous volume is carried over')
  assert.equal(after.State.Health?.Status, 'healthy', 'the new image HEALTHCHECK was waited for')
  assert.equal(
    await engine.docker(['exec', name, 'cat', '/anon/file', '/vol/file', '/data/config.txt']),
    'kept\nkept\nfrom the host',
  )
  await assert.rejects(
    engine.docker(['inspect', before.Id]),
    /No such/i,
    'the old container is removed',
  )
  assert.deepEqual(
    await namesMatching(engine, 'name=deckhand'),
    [],
    'no temporary containers are left',
  )
  assert.ok(
    lines.some((line) => line.includes('health check passed')),
    lines.join('\n'),
  )
})

test('a redeploy to an image whose HEALTHCHECK fails leaves the old container running', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = unique('web')
  await engine.run(['--name', name, '--network', 'none', 'dh-app:1'])
  const before = await inspect(engine, name)
  const { ctx, lines } = makeContext()

  const outcome = await driverFor(engine).redeploy(
    dockerService({ target: { container: name } }),
    { tag: 'bad', env: {} },
    ctx,
  )

  assert.equal(outcome.state, 'failed', lines.join('\n'))
  const error = outcome.state === 'failed' ? outcome.error : ''
  assert.match(error, /did not become healthy: its health check failed/)
  assert.match(error, /database unreachable/, 'the probe output is in the reason')
  assert.match(error, /app bad starting/, 'the container log lines are in the reason')
  const after = await inspect(engine, name)
  assert.equal(after.Id, before.Id)
  assert.equal(after.State.Running, true)
  assert.deepEqual(await namesMatching(engine, 'name=deckhand'), [])
})

for (const [pull, tag, expected] of [
  ['never', 'absent', /not on the engine and deploy.pull is "never"/],
  ['missing', 'absent', /pulling dh-app:absent failed, nothing was changed/],
  [
    'always',
    '2',
    /pulling dh-app:2 failed, nothing was changed: .+set deploy.pull to "missing" or "never"/,
  ],
] as const) {
  test(`pull policy ${pull} with ${tag === 'absent' ? 'a tag the engine lacks' : 'no registry'} fails before any container is touched`, async (t) => {
    const engine = handle.use(t)
    if (!engine) {
      return
    }
    cleanAfter(t, engine)
    const name = unique('web')
    await engine.run(['--name', name, '--network', 'none', 'dh-app:1'])
    const before = await inspect(engine, name)
    const service = dockerService({ target: { container: name } })
    service.deploy = { ...service.deploy, pull }
    const { ctx, lines } = makeContext()

    const outcome = await driverFor(engine).redeploy(service, { tag, env: {} }, ctx)

    assert.equal(outcome.state, 'failed', lines.join('\n'))
    assert.match(outcome.state === 'failed' ? outcome.error : '', expected)
    const after = await inspect(engine, name)
    assert.equal(after.Id, before.Id)
    assert.equal(after.State.StartedAt, before.State.StartedAt, 'the container was not restarted')
  })
}

test('pull policy missing uses an image already on the engine without pulling', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = unique('web')
  await engine.run(['--name', name, '--network', 'none', 'dh-app:1'])
  const { ctx, lines } = makeContext()
  const outcome = await driverFor(engine).redeploy(
    dockerService({ target: { container: name } }),
    { tag: undefined, env: {} },
    ctx,
  )
  assert.equal(outcome.state, 'succeeded', lines.join('\n'))
  assert.ok(lines.some((line) => /dh-app:1 is present on the engine/.test(line)))
  assert.ok(!lines.some((line) => line.startsWith('pulling')))
  assert.equal(
    (await inspect(engine, name)).Config.Image,
    'dh-app:1',
    'no tag keeps the current image',
  )
})

test('scaling a Compose service 1 → 3 → 2 leaves numbered, labelled replicas', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const project = unique('shop')
  await composeReplicas(engine, project, 1, ['-e', 'ROLE=web'])
  const driver = driverFor(engine)
  const service = dockerService({ target: { project, service: 'web' } })
  const change = { tag: undefined, env: { DECKHAND_TRIGGER_NAME: 'alerts' } }

  const up = await driver.scale(service, 3, change, makeContext().ctx)
  assert.deepEqual(up, { state: 'succeeded', replicas: 3 })
  const filter = `label=${COMPOSE_PROJECT}=${project}`
  assert.deepEqual(await namesMatching(engine, filter), [
    `${project}-web-1`,
    `${project}-web-2`,
    `${project}-web-3`,
  ])
  for (const number of [2, 3]) {
    const replica = await inspect(engine, `${project}-web-${number}`)
    assert.equal(replica.Config.Labels?.[COMPOSE_NUMBER], String(number))
    assert.equal(replica.Config.Labels?.[COMPOSE_SERVICE], 'web')
    assert.equal(replica.Config.Labels?.[RUN_LABEL], engine.runId)
    assert.equal(envOf(replica).ROLE, 'web')
    assert.equal(envOf(replica).DECKHAND_TRIGGER_NAME, 'alerts')
    assert.equal(replica.State.Running, true)
  }
  assert.equal((await driver.inspect(service)).replicas, 3)

  const down = await driver.scale(service, 2, change, makeContext().ctx)
  assert.deepEqual(down, { state: 'succeeded', replicas: 2 })
  assert.deepEqual(await namesMatching(engine, filter), [`${project}-web-1`, `${project}-web-2`])
  const status = await driver.inspect(service)
  assert.equal(status.replicas, 2)
  assert.equal(status.image, 'dh-app:1')
  assert.deepEqual(
    status.items.map((item) => item.id),
    [`${project}-web-1`, `${project}-web-2`],
  )
  // The UI's instances table shows each container's short id and start time.
  for (const item of status.items) {
    const container = await inspect(engine, item.id)
    assert.equal(item.container, container.Id.slice(0, 12))
    assert.equal(item.startedAt, container.State.StartedAt)
  }
})

test('a replica removed by hand is drift naming it, and the next scale converges on the count Deckhand deployed', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const project = unique('shop')
  await composeReplicas(engine, project, 2)
  const driver = driverFor(engine)
  const service = dockerService({ target: { project, service: 'web' }, replicas: 2 })
  const before = await driver.inspect(service)
  assert.equal(before.drift, undefined)
  assert.deepEqual([before.ready, before.desired], [2, 2])

  await engine.docker(['rm', '-f', `${project}-web-2`])
  const drifted = await driver.inspect(service)
  assert.deepEqual([drifted.ready, drifted.desired], [1, 2])
  assert.deepEqual(drifted.drift, [
    `replica ${project}-web-2 is missing (Deckhand deployed 2, 1 found)`,
  ])

  const change = { tag: undefined, env: {} }
  assert.deepEqual(await driver.scale(service, 2, change, makeContext().ctx), {
    state: 'succeeded',
    replicas: 2,
  })
  const converged = await driver.inspect(service)
  assert.equal(converged.drift, undefined)
  assert.deepEqual([converged.ready, converged.desired], [2, 2])
  assert.deepEqual(await namesMatching(engine, `label=${COMPOSE_PROJECT}=${project}`), [
    `${project}-web-1`,
    `${project}-web-2`,
  ])
})

test('a redeploy after a replica was removed by hand brings the service back to the count Deckhand deployed', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const project = unique('shop')
  await composeReplicas(engine, project, 2)
  const driver = driverFor(engine)
  const service = dockerService({ target: { project, service: 'web' }, replicas: 2 })
  await engine.docker(['rm', '-f', `${project}-web-2`])
  assert.deepEqual((await driver.inspect(service)).drift, [
    `replica ${project}-web-2 is missing (Deckhand deployed 2, 1 found)`,
  ])

  const outcome = await driver.redeploy(service, { tag: '2', env: {} }, makeContext().ctx)
  assert.deepEqual(outcome, { state: 'succeeded', replicas: 2, tag: '2' })
  const converged = await driver.inspect(service)
  assert.equal(converged.drift, undefined)
  assert.deepEqual([converged.ready, converged.desired], [2, 2])
  assert.deepEqual(await namesMatching(engine, `label=${COMPOSE_PROJECT}=${project}`), [
    `${project}-web-1`,
    `${project}-web-2`,
  ])
  assert.equal(
    (await inspect(engine, `${project}-web-2`)).Config.Image,
    'dh-app:2',
    'the recreated replica runs the new tag',
  )
})

test('when the second replica fails, the first one is rolled back too', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const project = unique('shop')
  const good = await mkdtemp(join(tmpdir(), 'dh-ok-'))
  t.after(() => rm(good, { recursive: true, force: true }))
  await writeFile(join(good, 'ok'), '')
  // Replica 1 sees /data/ok and passes the picky HEALTHCHECK; replica 2 does not.
  await engine.run([
    '--name',
    `${project}-web-1`,
    '--network',
    'none',
    '-v',
    `${good}:/data`,
    '--label',
    `${COMPOSE_PROJECT}=${project}`,
    '--label',
    `${COMPOSE_SERVICE}=web`,
    '--label',
    `${COMPOSE_NUMBER}=1`,
    'dh-app:1',
  ])
  await engine.run([
    '--name',
    `${project}-web-2`,
    '--network',
    'none',
    '--label',
    `${COMPOSE_PROJECT}=${project}`,
    '--label',
    `${COMPOSE_SERVICE}=web`,
    '--label',
    `${COMPOSE_NUMBER}=2`,
    'dh-app:1',
  ])
  const before = await Promise.all([1, 2].map((n) => inspect(engine, `${project}-web-${n}`)))
  const { ctx, lines } = makeContext()

  const outcome = await driverFor(engine).redeploy(
    dockerService({ target: { project, service: 'web' } }),
    { tag: 'picky', env: {} },
    ctx,
  )

  assert.equal(outcome.state, 'failed', lines.join('\n'))
  assert.match(outcome.state === 'failed' ? outcome.error : '', new RegExp(`${project}-web-2`))
  assert.ok(
    lines.some((line) => line.includes(`${project}-web-1: rolling back`)),
    lines.join('\n'),
  )
  for (const [index, old] of before.entries()) {
    const now = await inspect(engine, `${project}-web-${index + 1}`)
    assert.equal(now.Id, old.Id)
    assert.equal(now.Config.Image, 'dh-app:1')
    assert.equal(now.State.Running, true)
  }
  assert.deepEqual(await namesMatching(engine, 'name=deckhand'), [])
})

test('start-first becomes stop-first, with the reason logged, when host ports would collide', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = unique('web')
  await engine.run(['--name', name, '--network', 'host', '--expose', '8080', 'dh-app:1'])
  const { ctx, lines } = makeContext()
  const outcome = await driverFor(engine).redeploy(
    dockerService({ target: { container: name } }),
    { tag: '2', env: {} },
    ctx,
  )
  assert.equal(outcome.state, 'succeeded', lines.join('\n'))
  assert.ok(
    lines.some((line) =>
      /stop-first instead of start-first, because it runs on the host network and exposes 8080\/tcp/.test(
        line,
      ),
    ),
    lines.join('\n'),
  )
  assert.equal((await inspect(engine, name)).HostConfig.NetworkMode, 'host')
})

test('inspect reports a container its published port, container id, health, restarts and start', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  // The engine runs with --bridge=none, so the default network publishes nothing; a network of
  // its own does, through docker-proxy inside the engine's private network namespace.
  const network = unique('net')
  await engine.docker(['network', 'create', '--label', `${RUN_LABEL}=${engine.runId}`, network])
  t.after(async () => {
    await engine.cleanup()
    await engine.docker(['network', 'rm', network])
  })
  const published = unique('web')
  const onHost = unique('web')
  await engine.run([
    '--name',
    published,
    '--network',
    network,
    '-p',
    '127.0.0.1:18080:80',
    'dh-app:2',
  ])
  await engine.run(['--name', onHost, '--network', 'host', '--expose', '8080', 'dh-app:1'])
  const driver = driverFor(engine)
  await waitFor(async () => (await inspect(engine, published)).State.Health?.Status === 'healthy', {
    what: `${published} healthy`,
  })
  const container = await inspect(engine, published)
  const [item] = (await driver.inspect(dockerService({ target: { container: published } }))).items
  assert.deepEqual(item, {
    id: published,
    state: 'running',
    detail: 'dh-app:2 running (healthy)',
    restarts: 0,
    container: container.Id.slice(0, 12),
    port: '127.0.0.1:18080->80/tcp',
    health: 'healthy',
    startedAt: container.State.StartedAt,
  })
  const [hostItem] = (await driver.inspect(dockerService({ target: { container: onHost } }))).items
  assert.equal(
    hostItem?.port,
    '8080/tcp (host network)',
    'docker ps shows none; it listens on the host',
  )
  assert.equal(hostItem?.health, undefined, 'an image without a HEALTHCHECK has no verdict')
})

test('a target that matches no container fails naming the selector', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const driver = driverFor(engine)
  const byName = await driver.redeploy(
    dockerService({ target: { container: 'nobody-here' } }),
    { tag: undefined, env: {} },
    makeContext().ctx,
  )
  assert.match(
    byName.state === 'failed' ? byName.error : '',
    /no container matches container "nobody-here"/,
  )
  const byLabels = await driver.scale(
    dockerService({ target: { labels: { app: 'ghost' } } }),
    2,
    { tag: undefined, env: {} },
    makeContext().ctx,
  )
  assert.match(
    byLabels.state === 'failed' ? byLabels.error : '',
    /no container matches labels app=ghost/,
  )
  const byCompose = await driver.redeploy(
    dockerService({ target: { project: 'nope', service: 'web' } }),
    { tag: undefined, env: {} },
    makeContext().ctx,
  )
  assert.match(
    byCompose.state === 'failed' ? byCompose.error : '',
    /Compose service "web" of project "nope"/,
  )
})

test('an unreachable engine fails redeploys and ping with a message naming the socket', async () => {
  const socketPath = join(tmpdir(), 'deckhand-no-such-engine.sock')
  const driver = new GuardedDriver(new DockerDriver({ socketPath }))
  await assert.rejects(driver.ping(), new RegExp(`unix://${socketPath} cannot be reached`))
  const outcome = await driver.redeploy(
    dockerService({ target: { container: 'web' } }),
    { tag: undefined, env: {} },
    makeContext().ctx,
  )
  assert.equal(outcome.state, 'failed')
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    new RegExp(`unix://${socketPath} cannot be reached \\(ENOENT\\)`),
  )
})

test('the socket defaults to DOCKER_HOST, then /var/run/docker.sock', () => {
  const saved = process.env.DOCKER_HOST
  try {
    process.env.DOCKER_HOST = 'unix:///run/user/1000/docker.sock'
    assert.equal(new DockerDriver().endpoint, 'unix:///run/user/1000/docker.sock')
    delete process.env.DOCKER_HOST
    assert.equal(new DockerDriver().endpoint, 'unix:///var/run/docker.sock')
  } finally {
    if (saved === undefined) {
      delete process.env.DOCKER_HOST
    } else {
      process.env.DOCKER_HOST = saved
    }
  }
})

if (handle.engine) {
  const engine = handle.engine
  runDriverContract('docker', async () => ({
    driver: driverFor(engine),
    service: async () => {
      const project = unique('contract')
      await composeReplicas(engine, project, 1)
      return dockerService({ target: { project, service: 'web' } })
    },
    observeEnv: async (service) => {
      const [name] = await namesMatching(
        engine,
        `label=${COMPOSE_PROJECT}=${String(service.target.project)}`,
      )
      return envOf(await inspect(engine, name!))
    },
    brokenRedeploy: (service) => ({ service, change: { tag: 'bad', env: {} } }),
    slowRedeploy: (service) => ({
      service: { ...service, deploy: { ...service.deploy, healthTimeoutMs: 60_000 } },
      change: { tag: 'slow', env: {} },
    }),
    cleanup: () => engine.cleanup(),
  }))
} else {
  test('docker driver contract', { skip: `docker unavailable: ${handle.skipReason}` }, () => {})
}
