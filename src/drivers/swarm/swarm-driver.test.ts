/** The swarm driver against a private single-node Swarm: updates, scaling, Swarm's own rollback. */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { test } from 'node:test'

import { APP, buildImagesBefore, uniqueNames } from '../../../test/support/dockerd-setup.ts'
import type { PrivateDockerd } from '../../../test/support/private-dockerd.ts'
import { privateDockerd, RUN_LABEL } from '../../../test/support/private-dockerd.ts'
import { startRegistry } from '../../../test/support/registry.ts'
import { waitFor } from '../../../test/support/wait-for.ts'
import type { Service } from '../../model/index.ts'
import { RegistryCredentials } from '../../registry/registry-credentials.ts'
import type { ContainerInspect, SwarmServiceInspect } from '../docker/docker-client.ts'
import { makeContext, makeService, runDriverContract } from '../driver-contract.ts'
import { GuardedDriver } from '../guarded-driver.ts'
import { SwarmDriver } from './swarm-driver.ts'

/** The driver as the server runs it: a throw of the driver is recorded by GuardedDriver. */
const guarded = (engine: PrivateDockerd) =>
  new GuardedDriver(new SwarmDriver({ socketPath: engine.socketPath }))

const handle = await privateDockerd({ swarm: true })
const IMAGES: Record<string, string> = {
  'dh-app:1': `ENV APP_VERSION=1\n${APP}`,
  'dh-app:2': `ENV APP_VERSION=2\nHEALTHCHECK --interval=100ms --timeout=2s --retries=3 CMD true\n${APP}`,
  'dh-app:bad': `ENV APP_VERSION=bad\nHEALTHCHECK --interval=100ms --timeout=2s --retries=2 CMD sh -c 'echo database unreachable; exit 1'\n${APP}`,
  'dh-app:slow': `ENV APP_VERSION=slow\nHEALTHCHECK --interval=100ms --start-period=120s CMD false\n${APP}`,
}

buildImagesBefore(handle, IMAGES)
const unique = uniqueNames(handle)

/**
 * A replicated service on the host network (no ingress, no VIP), start-first so an old task
 * keeps running while a new one starts, and Swarm's rollback on failure.
 */
async function createService(
  engine: PrivateDockerd,
  replicas: number,
  extra: string[] = [],
): Promise<string> {
  const name = unique('svc')
  await engine.docker([
    'service',
    'create',
    '--detach',
    '--no-resolve-image',
    '--name',
    name,
    '--label',
    `${RUN_LABEL}=${engine.runId}`,
    '--container-label',
    `${RUN_LABEL}=${engine.runId}`,
    '--network',
    'host',
    '--replicas',
    String(replicas),
    '--stop-grace-period',
    '2s',
    '--update-parallelism',
    '1',
    '--update-delay',
    '0s',
    '--update-monitor',
    '1s',
    '--update-order',
    'start-first',
    '--update-failure-action',
    'rollback',
    '--rollback-monitor',
    '1s',
    '--rollback-parallelism',
    '0',
    '-e',
    'GREETING=hello',
    ...extra,
    'dh-app:1',
  ])
  await waitFor(async () => (await runningContainers(engine, name)).length === replicas, {
    timeoutMs: 30_000,
    what: `${replicas} running tasks of ${name}`,
  })
  return name
}

async function serviceInspect(engine: PrivateDockerd, name: string): Promise<SwarmServiceInspect> {
  return (
    JSON.parse(await engine.docker(['service', 'inspect', name])) as SwarmServiceInspect[]
  )[0]!
}

/** The service's running task containers, newest first. */
async function runningContainers(
  engine: PrivateDockerd,
  name: string,
): Promise<ContainerInspect[]> {
  const ids = (
    await engine.docker([
      'ps',
      '-q',
      '--filter',
      `label=com.docker.swarm.service.name=${name}`,
      '--filter',
      'status=running',
    ])
  )
    .split('\n')
    .filter(Boolean)
  if (ids.length === 0) {
    return []
  }
  const all = JSON.parse(await engine.docker(['inspect', ...ids])) as Array<
    ContainerInspect & { Created: string }
  >
  return all.sort((a, b) => b.Created.localeCompare(a.Created))
}

function envOf(entries: string[] | null | undefined): Record<string, string> {
  return Object.fromEntries(
    (entries ?? []).map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]),
  )
}

function swarmService(name: string): Service {
  return makeService({ name, driver: 'swarm', target: { service: name }, image: 'dh-app' })
}

const cleanAfter = (t: TestContext, engine: PrivateDockerd): void => {
  t.after(() => engine.cleanup())
}

test('a Swarm redeploy to a new tag and env converges and is reported', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = await createService(engine, 2)
  const { ctx, lines } = makeContext()

  const outcome = await guarded(engine).redeploy(
    swarmService(name),
    { tag: '2', env: { DECKHAND_DEPLOYMENT_ID: ctx.deploymentId } },
    ctx,
  )

  assert.deepEqual(outcome, { state: 'succeeded', replicas: 2, tag: '2' }, lines.join('\n'))
  const spec = (await serviceInspect(engine, name)).Spec.TaskTemplate!
  assert.equal(spec.ContainerSpec?.Image, 'dh-app:2')
  assert.equal(spec.ForceUpdate, 1)
  const env = envOf(spec.ContainerSpec?.Env)
  assert.equal(env.GREETING, 'hello')
  assert.equal(env.DECKHAND_DEPLOYMENT_ID, ctx.deploymentId)
  const running = await runningContainers(engine, name)
  assert.deepEqual(
    running.map((container) => container.Config.Image),
    ['dh-app:2', 'dh-app:2'],
  )
  assert.ok(
    lines.some((line) => line.includes('Swarm update state: completed')),
    lines.join('\n'),
  )
  assert.ok(
    lines.some((line) => / → running/.test(line)),
    'task state changes are logged',
  )
})

test('a Swarm redeploy without a tag still replaces every task (ForceUpdate)', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = await createService(engine, 1)
  const [before] = await runningContainers(engine, name)
  const outcome = await guarded(engine).redeploy(
    swarmService(name),
    { tag: undefined, env: {} },
    makeContext().ctx,
  )
  assert.deepEqual(outcome, { state: 'succeeded', replicas: 1, tag: null })
  const [after] = await runningContainers(engine, name)
  assert.notEqual(after?.Id, before?.Id)
  assert.equal(after?.Config.Image, 'dh-app:1')
})

test('Swarm scaling 2 → 3 → 1 converges and inspect reports it', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = await createService(engine, 2)
  const driver = guarded(engine)
  const service = swarmService(name)
  for (const replicas of [3, 1]) {
    const { ctx, lines } = makeContext()
    const outcome = await driver.scale(service, replicas, { tag: undefined, env: {} }, ctx)
    assert.deepEqual(outcome, { state: 'succeeded', replicas }, lines.join('\n'))
    assert.equal((await serviceInspect(engine, name)).Spec.Mode?.Replicated?.Replicas, replicas)
    assert.equal((await runningContainers(engine, name)).length, replicas)
    const status = await driver.inspect(service)
    assert.equal(status.replicas, replicas)
    assert.equal(status.healthy, true)
    assert.equal(status.image, 'dh-app:1')
  }
})

test('Swarm inspect reports each task its container, state, start, restarts and the published port', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = unique('svc')
  // Not createService's host network: a port is published through the ingress mesh here.
  await engine.docker([
    'service',
    'create',
    '--detach',
    '--no-resolve-image',
    '--name',
    name,
    '--label',
    `${RUN_LABEL}=${engine.runId}`,
    '--container-label',
    `${RUN_LABEL}=${engine.runId}`,
    '--replicas',
    '2',
    '--restart-delay',
    '100ms',
    '--publish',
    'published=18091,target=80',
    'dh-app:1',
  ])
  await waitFor(async () => (await runningContainers(engine, name)).length === 2, {
    timeoutMs: 30_000,
    what: `2 running tasks of ${name}`,
  })
  // A task killed under Swarm fails, and Swarm starts a new one in its slot: a restart.
  const [killed] = await runningContainers(engine, name)
  const slot = killed!.Config.Labels?.['com.docker.swarm.task.name']?.split('.')[1]
  await engine.docker(['kill', killed!.Id])
  await waitFor(
    async () => {
      const running = await runningContainers(engine, name)
      return running.length === 2 && !running.some((c) => c.Id === killed!.Id)
    },
    { timeoutMs: 30_000, what: `a new task in slot ${slot} of ${name}` },
  )
  const status = await guarded(engine).inspect(swarmService(name))
  const running = await runningContainers(engine, name)
  const items = [...status.items].sort((a, b) => a.id.localeCompare(b.id))
  assert.deepEqual(
    items.map((item) => [item.id, item.state, item.port, item.restarts]),
    [1, 2].map((n) => [`${name}.${n}`, 'running', '*:18091->80/tcp', String(n) === slot ? 1 : 0]),
  )
  assert.deepEqual(
    items.map((item) => item.container).sort(),
    running.map((c) => c.Id.slice(0, 12)).sort(),
  )
  // Swarm stamps a task running just after its container starts: the same moment, give or take.
  for (const item of items) {
    const container = running.find((c) => c.Id.startsWith(item.container!))!
    const gapMs = Date.parse(item.startedAt ?? '') - Date.parse(container.State.StartedAt)
    assert.ok(gapMs >= 0 && gapMs < 5000, `${item.id}: ${item.startedAt}`)
  }
})

test('a failing Swarm update that Swarm rolls back is reported as rolled back', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = await createService(engine, 1)
  const { ctx, lines } = makeContext()

  const outcome = await guarded(engine).redeploy(swarmService(name), { tag: 'bad', env: {} }, ctx)

  assert.equal(outcome.state, 'failed', lines.join('\n'))
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /^the update was rolled back by Swarm: .+/,
  )
  const current = await serviceInspect(engine, name)
  assert.equal(current.Spec.TaskTemplate?.ContainerSpec?.Image, 'dh-app:1')
  assert.equal(current.UpdateStatus?.State, 'rollback_completed')
  // A 200 ms poll can miss the short rollback_started state; the failed task is always seen.
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /rolled back due to failure|last task error: task svc-/,
  )
  await waitFor(
    async () => (await runningContainers(engine, name)).every((c) => c.Config.Image === 'dh-app:1'),
    {
      what: 'only dh-app:1 tasks running after the rollback',
    },
  )
})

test('a Swarm update that pauses on failure is rolled back to the previous spec, with Swarm message', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = await createService(engine, 2, ['--update-failure-action', 'pause'])
  const { ctx, lines } = makeContext()
  const outcome = await guarded(engine).redeploy(
    swarmService(name),
    { tag: 'bad', env: { GREETING: 'tried' } },
    ctx,
  )
  assert.equal(outcome.state, 'failed', lines.join('\n'))
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /^the update was paused by Swarm: update paused due to failure.*; Deckhand rolled it back to the previous spec \(deploy\.rollback\)$/s,
  )
  const current = await serviceInspect(engine, name)
  assert.equal(current.Spec.TaskTemplate?.ContainerSpec?.Image, 'dh-app:1')
  assert.equal(current.Spec.Mode?.Replicated?.Replicas, 2)
  const running = await waitFor(
    async () => {
      const tasks = await runningContainers(engine, name)
      return tasks.length === 2 && tasks.every((c) => c.Config.Image === 'dh-app:1')
        ? tasks
        : undefined
    },
    { timeoutMs: 30_000, what: 'two dh-app:1 tasks running after the rollback' },
  )
  assert.deepEqual(
    running.map((c) => envOf(c.Config.Env).GREETING),
    ['hello', 'hello'],
  )
})

test('with deploy.rollback off, a paused Swarm update is left paused for the operator', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = await createService(engine, 1, ['--update-failure-action', 'pause'])
  const service = swarmService(name)
  const outcome = await new SwarmDriver({ socketPath: engine.socketPath }).redeploy(
    { ...service, deploy: { ...service.deploy, rollback: false } },
    { tag: 'bad', env: {} },
    makeContext().ctx,
  )
  assert.match(outcome.state === 'failed' ? outcome.error : '', /^the update was paused by Swarm: /)
  assert.doesNotMatch(outcome.state === 'failed' ? outcome.error : '', /rolled it back/)
  assert.equal((await serviceInspect(engine, name)).UpdateStatus?.State, 'paused')
})

test('a Swarm service scaled by hand reports drift, and the next redeploy converges on the count Deckhand deployed', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const name = await createService(engine, 2)
  const service = { ...swarmService(name), replicas: 2 }
  const driver = new SwarmDriver({ socketPath: engine.socketPath })
  assert.equal((await driver.inspect(service)).drift, undefined, 'no drift while it matches')
  await engine.docker(['service', 'scale', '--detach', `${name}=1`])
  const drifted = await waitFor(
    async () => {
      const status = await driver.inspect(service)
      return status.replicas === 1 ? status : undefined
    },
    { timeoutMs: 30_000, what: 'one task after the hand scale' },
  )
  assert.deepEqual(drifted.drift, ['the Swarm service asks for 1 replicas; Deckhand deployed 2'])
  const redeployed = await driver.redeploy(service, { tag: undefined, env: {} }, makeContext().ctx)
  assert.deepEqual(redeployed, { state: 'succeeded', replicas: 2, tag: null })
  assert.equal((await serviceInspect(engine, name)).Spec.Mode?.Replicated?.Replicas, 2)
})

test('a Swarm target that names no service fails naming it', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  const outcome = await guarded(engine).scale(
    swarmService('no-such-svc'),
    2,
    { tag: undefined, env: {} },
    makeContext().ctx,
  )
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /no Swarm service named "no-such-svc"/,
  )
  assert.deepEqual(
    new SwarmDriver({ socketPath: engine.socketPath }).checkTarget({ name: 'web' }),
    [
      'target.name is not a swarm target field; a swarm target is {"service": "<name>"}',
      'target.service must be the name or id of a Swarm service, such as "web"',
    ],
  )
})

if (handle.engine) {
  const engine = handle.engine
  runDriverContract('swarm', async () => ({
    driver: new SwarmDriver({ socketPath: engine.socketPath }),
    service: async () => swarmService(await createService(engine, 1)),
    observeEnv: async (service) => {
      const [newest] = await waitFor(
        async () => {
          const running = await runningContainers(engine, String(service.target.service))
          return running.length > 0 ? running : null
        },
        { what: 'a running task' },
      )
      return envOf(newest?.Config.Env)
    },
    brokenRedeploy: (service) => ({ service, change: { tag: 'bad', env: {} } }),
    slowRedeploy: (service) => ({ service, change: { tag: 'slow', env: {} } }),
    cleanup: () => engine.cleanup(),
  }))
} else {
  test('swarm driver contract', { skip: `docker unavailable: ${handle.skipReason}` }, () => {})
}

test('a Swarm redeploy to a private image sends the registry credentials, so the tasks pull it', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const registry = await startRegistry(t, { engine, secure: true })
  if (!registry) {
    return
  }
  const image = `${registry.host}/acme/swarm`
  await registry.push(engine, 'dh-app:2', 'acme/swarm', '2')
  // Only the registry has it now: the task must pull it, with the credentials of the update.
  await engine.docker(['rmi', `${image}:2`])
  const name = await createService(engine, 1)
  const dir = await mkdtemp(join(tmpdir(), 'dh-swarm-auth-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const credentials = new RegistryCredentials(await registry.writeDockerConfig(dir))
  const { ctx, lines } = makeContext()

  const outcome = await new SwarmDriver({ socketPath: engine.socketPath, credentials }).redeploy(
    makeService({ name, driver: 'swarm', target: { service: name }, image }),
    { tag: '2', env: {} },
    ctx,
  )

  assert.deepEqual(outcome, { state: 'succeeded', replicas: 1, tag: '2' }, lines.join('\n'))
  const running = await runningContainers(engine, name)
  assert.match(running[0]?.Config.Image ?? '', new RegExp(`^${image}:2`))
  assert.equal(lines.join('\n').includes(registry.credentials!.password), false)
})

test('a Swarm update whose tasks cannot pull for want of credentials fails naming the credentials', async (t) => {
  const engine = handle.use(t)
  if (!engine) {
    return
  }
  cleanAfter(t, engine)
  const registry = await startRegistry(t, { engine, secure: true })
  if (!registry) {
    return
  }
  const image = `${registry.host}/acme/swarm`
  await registry.push(engine, 'dh-app:2', 'acme/swarm', '2')
  // The push logged the CLI in; the engine itself holds no credentials, as a worker would not.
  await engine.docker(['rmi', `${image}:2`])
  const name = await createService(engine, 1)
  const dir = await mkdtemp(join(tmpdir(), 'dh-swarm-noauth-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const credentials = new RegistryCredentials(join(dir, 'config.json'))
  const { ctx, lines } = makeContext()

  const outcome = await new SwarmDriver({ socketPath: engine.socketPath, credentials }).redeploy(
    makeService({ name, driver: 'swarm', target: { service: name }, image }),
    { tag: '2', env: {} },
    ctx,
  )

  assert.equal(outcome.state, 'failed', lines.join('\n'))
  const error = outcome.state === 'failed' ? outcome.error : ''
  // Swarm's own words stay: the task's "No such image" and the rollback it made.
  assert.match(
    error,
    new RegExp(
      `^the Swarm tasks could not pull ${image}:2 and Deckhand sent no credentials for ` +
        `${registry.host} with the update \\(none in ${join(dir, 'config.json')}.*` +
        `DECKHAND_REGISTRY_AUTH.*the update was rolled back by Swarm: .*No such image`,
    ),
  )
  const current = await serviceInspect(engine, name)
  assert.equal(current.Spec.TaskTemplate?.ContainerSpec?.Image, 'dh-app:1')
})
