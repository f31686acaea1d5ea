/** The kubernetes driver against the Kubernetes API stand-in (not a live cluster): patches, rollouts, rollback. */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { parseAllDocuments } from 'yaml'

import { KubeApiStandIn, type WorkloadSeed } from '../../../test/support/kube-api-stand-in.ts'
import { waitFor } from '../../../test/support/wait-for.ts'
import type { Service } from '../../model/index.ts'
import type { RedeployChange } from '../driver.ts'
import { makeContext, makeService } from '../driver-contract.ts'
import { GuardedDriver } from '../guarded-driver.ts'
import { KubernetesDriver } from './kubernetes-driver.ts'

const standIn = await KubeApiStandIn.start()
standIn.failImages({ image: /:bad$/, reason: 'ImagePullBackOff' })
standIn.startControllers(10)
const dir = await mkdtemp(join(tmpdir(), 'deckhand-kube-'))
const deadPort = await closedPort()
const kubeconfigPath = join(dir, 'kubeconfig')
await writeFile(kubeconfigPath, standIn.kubeconfig({ nowhere: `http://127.0.0.1:${deadPort}` }))
after(async () => {
  await standIn.close()
  await rm(dir, { recursive: true, force: true })
})

// Wrapped as the server runs it: a throw of the driver is recorded by GuardedDriver.
const driver = new GuardedDriver(new KubernetesDriver({ kubeconfigPath, pollMs: 20 }))
const noChange = { tag: undefined, env: {} }
let serial = 0

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A fresh rolled-out workload on the stand-in and a service targeting it by name. */
function seed(
  fields: Partial<WorkloadSeed> = {},
  service: Partial<Service> = {},
): { name: string; service: Service } {
  const name = fields.name ?? `web-${++serial}`
  standIn.add({ name, replicas: 2, containers: [{ name: 'app', image: 'acme/web:1' }], ...fields })
  const kind = fields.kind ?? 'Deployment'
  return {
    name,
    service: makeService({
      name,
      driver: 'kubernetes',
      target: { namespace: 'default', kind, name },
      image: 'acme/web',
      ...service,
    }),
  }
}

const template = (name: string, kind: 'Deployment' | 'StatefulSet' = 'Deployment') =>
  standIn.get(kind, 'default', name).spec.template
const podNames = (name: string, kind: 'Deployment' | 'StatefulSet' = 'Deployment') =>
  standIn.pods(kind, 'default', name).map((p) => p.metadata.name as string)

test('against the API stand-in, a same-tag redeploy patches deckhand.dev/restartedAt and replaces every pod', async () => {
  const { name, service } = seed()
  const before = podNames(name)
  const { ctx, lines } = makeContext()
  const outcome = await driver.redeploy(service, noChange, ctx)
  assert.deepEqual(outcome, { state: 'succeeded', replicas: 2, tag: null }, lines.join('\n'))
  const annotations = template(name).metadata.annotations
  assert.ok(
    !Number.isNaN(Date.parse(annotations['deckhand.dev/restartedAt'])),
    JSON.stringify(annotations),
  )
  assert.equal(template(name).spec.containers[0].image, 'acme/web:1')
  const after = podNames(name)
  assert.equal(after.length, 2)
  assert.ok(
    after.every((pod) => !before.includes(pod)),
    'every pod was replaced',
  )
  assert.ok(
    lines.some((line) => line.includes('successfully rolled out')),
    lines.join('\n'),
  )
  const patch = standIn.requests.find(
    (r) => r.method === 'PATCH' && r.path.endsWith(`/deployments/${name}`),
  )
  assert.equal(patch?.contentType, 'application/strategic-merge-patch+json')
})

test('against the API stand-in, a tag change patches the image of the container that runs the service image', async () => {
  const { name, service } = seed({
    containers: [
      { name: 'proxy', image: 'envoyproxy/envoy:v1.30' },
      { name: 'app', image: 'docker.io/acme/web:1@sha256:abc' },
    ],
  })
  const { ctx, lines } = makeContext()
  const outcome = await driver.redeploy(service, { tag: '2', env: {} }, ctx)
  assert.deepEqual(outcome, { state: 'succeeded', replicas: 2, tag: '2' }, lines.join('\n'))
  assert.deepEqual(
    template(name).spec.containers.map((c: { image: string }) => c.image),
    ['envoyproxy/envoy:v1.30', 'docker.io/acme/web:2'],
  )
  assert.ok(
    standIn
      .pods('Deployment', 'default', name)
      .every((p) => p.spec.containers[1].image === 'docker.io/acme/web:2'),
  )
})

test('against the API stand-in, the change environment is added to the chosen container, replacing a valueFrom', async () => {
  const env = [
    { name: 'KEEP', value: 'yes' },
    { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
  ]
  const { name, service } = seed({ containers: [{ name: 'app', image: 'acme/web:1', env }] })
  const { ctx, lines } = makeContext()
  const change = {
    tag: undefined,
    env: { DECKHAND_DEPLOYMENT_ID: ctx.deploymentId, FROM_SECRET: 'now plain' },
  }
  const outcome = await driver.redeploy(service, change, ctx)
  assert.equal(outcome.state, 'succeeded', lines.join('\n'))
  assert.deepEqual(template(name).spec.containers[0].env, [
    { name: 'KEEP', value: 'yes' },
    { name: 'FROM_SECRET', value: 'now plain' },
    { name: 'DECKHAND_DEPLOYMENT_ID', value: ctx.deploymentId },
  ])
})

test('against the API stand-in, scale goes through the scale subresource and inspect reports it', async () => {
  const { name, service } = seed()
  for (const replicas of [3, 1]) {
    const { ctx, lines } = makeContext()
    const outcome = await driver.scale(service, replicas, noChange, ctx)
    assert.deepEqual(outcome, { state: 'succeeded', replicas }, lines.join('\n'))
    const status = await driver.inspect(service)
    assert.deepEqual(
      [status.replicas, status.healthy, status.image, status.items.length],
      [replicas, true, 'acme/web:1', replicas],
    )
  }
  const scales = standIn.requests.filter(
    (r) => r.method === 'PATCH' && r.path.includes(`/deployments/${name}`),
  )
  assert.deepEqual(
    scales.map((r) => [r.path.endsWith('/scale'), r.contentType]),
    [
      [true, 'application/merge-patch+json'],
      [true, 'application/merge-patch+json'],
    ],
  )
})

test('against the API stand-in, inspect reports each pod its readiness, restarts, ports and start', async () => {
  standIn.failImages({ image: /:crashing$/, reason: 'CrashLoopBackOff' })
  const containers = [
    { name: 'app', image: 'acme/web:1', ports: [{ containerPort: 8080, protocol: 'TCP' }] },
  ]
  const ready = seed({ replicas: 1, containers })
  const crashing = seed({
    replicas: 1,
    containers: [{ ...containers[0]!, image: 'acme/web:crashing' }],
  })
  const [readyPod] = standIn.pods('Deployment', 'default', ready.name)
  const [item] = (await driver.inspect(ready.service)).items
  assert.deepEqual(item, {
    id: readyPod.metadata.name,
    state: 'running',
    detail: 'Running',
    restarts: 0,
    health: 'ready',
    port: '8080/tcp',
    startedAt: readyPod.status.containerStatuses[0].state.running.startedAt,
  })
  const [crashItem] = (await driver.inspect(crashing.service)).items
  assert.equal(crashItem?.state, 'restarting')
  assert.equal(crashItem?.health, 'not ready')
  assert.equal(crashItem?.restarts, 3)
  assert.equal(crashItem?.startedAt, undefined, 'a container in back-off runs nothing')
})

test('against the API stand-in, a rollout stuck past its progress deadline is reported with pod reasons and rolled back', async () => {
  const { name, service } = seed()
  const before = template(name)
  const { ctx, lines } = makeContext()
  const redeploy = driver.redeploy(service, { tag: 'bad', env: { DECKHAND_IMAGE_TAG: 'bad' } }, ctx)
  // Let the stuck pod report ImagePullBackOff, then pass the 600 s deadline on the stand-in's clock.
  await waitFor(() => lines.some((line) => line.includes('ImagePullBackOff')), {
    what: 'the ImagePullBackOff log line',
  })
  standIn.advanceClock(601_000)
  const outcome = await redeploy
  assert.equal(outcome.state, 'failed')
  const error = outcome.state === 'failed' ? outcome.error : ''
  assert.match(
    error,
    new RegExp(
      `Deployment default/${name} rollout failed: ProgressDeadlineExceeded: ReplicaSet "${name}-\\w+" has timed out progressing`,
    ),
  )
  assert.match(error, /container app ImagePullBackOff \(Back-off pulling image "acme\/web:bad"\)/)
  assert.match(
    error,
    /rolled back Deployment default\/\S+ to its previous pod template .*; the previous pods are ready again$/,
  )
  assert.deepEqual(template(name), before, 'the template is what it was before the patch')
  assert.deepEqual(
    standIn.pods('Deployment', 'default', name).map((p) => p.spec.containers[0].image),
    ['acme/web:1', 'acme/web:1'],
  )
  assert.ok(
    lines.some((line) => line.includes('ProgressDeadlineExceeded')),
    'the deployment log says it too',
  )
  const undo = standIn.requests
    .filter((r) => r.method === 'PATCH' && r.path.endsWith(`/deployments/${name}`))
    .at(-1)
  assert.equal(undo?.contentType, 'application/json-patch+json')
})

test('against the API stand-in, with deploy.rollback off a stalled rollout is reported and left in place', async () => {
  const { name, service } = seed({ progressDeadlineSeconds: 1 })
  const norollback = { ...service, deploy: { ...service.deploy, rollback: false } }
  const outcome = await driver.redeploy(norollback, { tag: 'bad', env: {} }, makeContext().ctx)
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /ProgressDeadlineExceeded.*not rolled back \(deploy\.rollback is off\)/,
  )
  assert.equal(template(name).spec.containers[0].image, 'acme/web:bad')
})

test('against the API stand-in, a rollback does not undo a template someone else changed meanwhile', async () => {
  const { name, service } = seed({ progressDeadlineSeconds: 1 })
  const { ctx, lines } = makeContext()
  const redeploy = driver.redeploy(service, { tag: 'bad', env: {} }, ctx)
  await waitFor(() => lines.some((line) => line.includes('ImagePullBackOff')), {
    what: 'the stuck pod',
  })
  standIn.edit('Deployment', 'default', name, {
    spec: {
      template: { metadata: { annotations: { 'deckhand.dev/restartedAt': 'someone else' } } },
    },
  })
  const outcome = await redeploy
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /could not roll back Deployment default\/\S+: its pod template changed since Deckhand patched it/,
  )
})

test('against the API stand-in, a selector target redeploys every match, and scale refuses more than one', async () => {
  const team = `team-${++serial}`
  const a = seed({ labels: { app: 'shop', team } })
  const b = seed({ labels: { app: 'shop', team }, replicas: 1 })
  seed({ labels: { app: 'other', team } })
  const service = makeService({
    name: 'shop',
    driver: 'kubernetes',
    target: { namespace: 'default', kind: 'Deployment', selector: { app: 'shop', team } },
    image: 'acme/web',
  })
  const { ctx, lines } = makeContext()
  const outcome = await driver.redeploy(service, { tag: '3', env: {} }, ctx)
  assert.deepEqual(outcome, { state: 'succeeded', replicas: 3, tag: '3' }, lines.join('\n'))
  assert.equal(template(a.name).spec.containers[0].image, 'acme/web:3')
  assert.equal(template(b.name).spec.containers[0].image, 'acme/web:3')
  const scaled = await driver.scale(service, 2, noChange, makeContext().ctx)
  assert.match(
    scaled.state === 'failed' ? scaled.error : '',
    new RegExp(`matches 2 Deployments \\(${a.name}, ${b.name}\\); scaling needs exactly one`),
  )
  const none = { ...service, target: { ...service.target, selector: { app: 'nothing' } } }
  const missing = await driver.redeploy(none, noChange, makeContext().ctx)
  assert.match(
    missing.state === 'failed' ? missing.error : '',
    /no Deployment in namespace "default" matches the selector app=nothing/,
  )
})

test('against the API stand-in, a StatefulSet found by selector rolls a new tag out ordinal by ordinal', async () => {
  const { name, service: byName } = seed({ kind: 'StatefulSet', replicas: 3 })
  const service = {
    ...byName,
    target: { namespace: 'default', kind: 'StatefulSet', selector: { app: name } },
  }
  const { ctx, lines } = makeContext()
  const outcome = await driver.redeploy(service, { tag: '2', env: {} }, ctx)
  assert.deepEqual(outcome, { state: 'succeeded', replicas: 3, tag: '2' }, lines.join('\n'))
  assert.deepEqual(
    standIn
      .pods('StatefulSet', 'default', name)
      .map((p) => `${p.metadata.name}=${p.spec.containers[0].image}`),
    [`${name}-0=acme/web:2`, `${name}-1=acme/web:2`, `${name}-2=acme/web:2`],
  )
  assert.ok(
    lines.some((line) => line.includes('rolling update complete: 3 pods at revision')),
    lines.join('\n'),
  )
  const scaled = await driver.scale(service, 1, noChange, makeContext().ctx)
  assert.deepEqual(scaled, { state: 'succeeded', replicas: 1 })
  assert.deepEqual(podNames(name, 'StatefulSet'), [`${name}-0`])
})

test('against the API stand-in, a StatefulSet that makes no progress fails after deploy.healthTimeout and names #67250', async () => {
  const { name, service } = seed(
    { kind: 'StatefulSet', replicas: 2 },
    { deploy: { order: 'start-first', healthTimeoutMs: 300, pull: 'missing', rollback: true } },
  )
  const outcome = await driver.redeploy(service, { tag: 'bad', env: {} }, makeContext().ctx)
  const error = outcome.state === 'failed' ? outcome.error : ''
  assert.match(
    error,
    new RegExp(`StatefulSet default/${name} rollout failed: no progress for 300ms`),
  )
  assert.match(error, /ImagePullBackOff/)
  assert.match(error, /rolled back .*; the rollback has not finished: .*kubectl delete pod/)
  assert.equal(template(name, 'StatefulSet').spec.containers[0].image, 'acme/web:1')
})

test('against the API stand-in, an ambiguous container choice fails naming the containers and patches nothing', async () => {
  const { name, service } = seed({
    containers: [
      { name: 'api', image: 'acme/api:1' },
      { name: 'worker', image: 'acme/worker:1' },
    ],
  })
  const patchesBefore = standIn.requests.filter((r) => r.method === 'PATCH').length
  const changes: RedeployChange[] = [
    { tag: '2', env: {} },
    { tag: undefined, env: { K: 'v' } },
  ]
  for (const change of changes) {
    const outcome = await driver.redeploy(service, change, makeContext().ctx)
    assert.equal(outcome.state, 'failed')
    assert.equal(
      outcome.state === 'failed' && outcome.error,
      `Deployment default/${name} has 2 containers and none runs the service's image acme/web; set the service's image to the repository of one of: api (acme/api:1), worker (acme/worker:1)`,
    )
  }
  assert.equal(standIn.requests.filter((r) => r.method === 'PATCH').length, patchesBefore)
  const restart = await driver.redeploy(service, noChange, makeContext().ctx)
  assert.equal(restart.state, 'succeeded', 'a plain restart needs no container choice')
})

test('against the API stand-in, an unreachable API server is named by ping and by a redeploy', async () => {
  await driver.ping()
  const down = new KubernetesDriver({ kubeconfigPath, context: 'nowhere', pingTimeoutMs: 2000 })
  await assert.rejects(
    down.ping(),
    new RegExp(
      `the Kubernetes API server at http://127\\.0\\.0\\.1:${deadPort} cannot be reached \\(ECONNREFUSED\\)`,
    ),
  )
  const { service } = seed()
  const elsewhere = { ...service, target: { ...service.target, context: 'nowhere' } }
  const outcome = await driver.redeploy(elsewhere, noChange, makeContext().ctx)
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    new RegExp(`127\\.0\\.0\\.1:${deadPort} cannot be reached`),
  )
  await assert.rejects(
    driver.ping(),
    new RegExp(`127\\.0\\.0\\.1:${deadPort} cannot be reached`),
    'ping covers the contexts services use',
  )
  const unknown = await driver.redeploy(
    { ...service, target: { ...service.target, context: 'nope' } },
    noChange,
    makeContext().ctx,
  )
  assert.match(
    unknown.state === 'failed' ? unknown.error : '',
    /no context named "nope"; its contexts are stand-in, nowhere/,
  )
  const noFile = new KubernetesDriver({ kubeconfigPath: join(dir, 'missing') })
  await assert.rejects(noFile.ping(), /cannot load its configuration from .*missing/)
})

test('against the API stand-in, a missing workload fails naming it, and checkTarget names broken fields', async () => {
  const service = makeService({
    name: 'ghost',
    driver: 'kubernetes',
    target: { namespace: 'default', kind: 'Deployment', name: 'ghost' },
  })
  const outcome = await driver.redeploy(service, noChange, makeContext().ctx)
  assert.match(
    outcome.state === 'failed' ? outcome.error : '',
    /no Deployment named "ghost" in namespace "default" on http:\/\/127\.0\.0\.1:\d+/,
  )
  assert.deepEqual(
    driver.checkTarget({
      namespace: 'default',
      kind: 'StatefulSet',
      selector: { app: 'db' },
      context: 'prod',
    }),
    [],
  )
  assert.deepEqual(
    driver.checkTarget({
      namespace: 'Default',
      kind: 'DaemonSet',
      name: 'web',
      selector: { app: 'web' },
      replicas: 2,
    }),
    [
      'target.replicas is not a kubernetes target field; a kubernetes target is {"namespace": "default", "kind": "Deployment", "name": "web"} or {"namespace": …, "kind": …, "selector": {"app": "web"}}',
      'target.namespace must be a namespace name, such as "default"',
      'target.kind must be one of Deployment, StatefulSet; found "DaemonSet"',
      'target.name and target.selector cannot both be set; choose one',
    ],
  )
})

// Runs last: by now the tests above have sent every kind of request the driver makes.
test('against the API stand-in, deploy/kubernetes/rbac.yaml grants exactly the verbs the driver used', async () => {
  const used = new Set<string>()
  for (const { method, path, query } of standIn.requests) {
    const apps = /^\/apis\/apps\/v1\/namespaces\/[^/]+\/(\w+)(\/[^/]+)?(\/scale)?$/.exec(path)
    const core = /^\/api\/v1\/namespaces\/[^/]+\/(\w+)(\/[^/]+)?$/.exec(path)
    const match = apps ?? core
    if (!match) {
      assert.equal(path, '/version', 'the only non-resource URL is /version')
      continue
    }
    const verb =
      method === 'PATCH' ? 'patch' : match[2] || query.includes('watch=') ? 'get' : 'list'
    used.add(`${apps ? 'apps' : ''}/${match[1]}${match[3] ?? ''}:${verb}`)
  }
  const documents = parseAllDocuments(
    await readFile(new URL('../../../deploy/kubernetes/rbac.yaml', import.meta.url), 'utf8'),
  )
  const role = documents.map((d) => d.toJS()).find((d) => d.kind === 'Role')
  const granted = new Set<string>()
  for (const rule of role.rules as Array<{
    apiGroups: string[]
    resources: string[]
    verbs: string[]
  }>) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) {
          granted.add(`${group}/${resource}:${verb}`)
        }
      }
    }
  }
  assert.deepEqual([...used].sort(), [...granted].sort())
})
