/** The Kubernetes API stand-in answers and applies patches the way the API reference says. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { KubeApiStandIn } from './kube-api-stand-in.ts'

async function call(
  standIn: KubeApiStandIn,
  method: string,
  path: string,
  body?: unknown,
  type?: string,
) {
  const response = await fetch(`${standIn.url}${path}`, {
    method,
    headers: type ? { 'content-type': type } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as any }
}

const WEB = '/apis/apps/v1/namespaces/default/deployments/web'

test('the stand-in serves a seeded Deployment rolled out, lists by selector and answers 404 as a Status', async (t) => {
  const standIn = await KubeApiStandIn.start()
  t.after(() => standIn.close())
  standIn.add({ name: 'web', replicas: 2, containers: [{ name: 'app', image: 'acme/web:1' }] })
  const { json } = await call(standIn, 'GET', WEB)
  assert.equal(json.metadata.generation, 1)
  assert.equal(json.status.observedGeneration, 1)
  assert.equal(json.status.availableReplicas, 2)
  assert.equal(json.status.conditions[0].reason, 'NewReplicaSetAvailable')
  const list = await call(
    standIn,
    'GET',
    '/apis/apps/v1/namespaces/default/deployments?labelSelector=app%20in%20(web,api)',
  )
  assert.deepEqual(
    list.json.items.map((d: { metadata: { name: string } }) => d.metadata.name),
    ['web'],
  )
  const none = await call(
    standIn,
    'GET',
    '/apis/apps/v1/namespaces/default/deployments?labelSelector=app%3Dapi',
  )
  assert.deepEqual(none.json.items, [])
  const missing = await call(standIn, 'GET', '/apis/apps/v1/namespaces/default/deployments/nope')
  assert.equal(missing.status, 404)
  assert.deepEqual(
    [missing.json.kind, missing.json.reason, missing.json.message],
    ['Status', 'NotFound', 'deployments.apps "nope" not found'],
  )
  const pods = await call(standIn, 'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')
  assert.equal(pods.json.items.length, 2)
})

test('the stand-in merges strategic patches by container and env name and bumps generation only on spec change', async (t) => {
  const standIn = await KubeApiStandIn.start()
  t.after(() => standIn.close())
  standIn.add({
    name: 'web',
    containers: [
      { name: 'app', image: 'acme/web:1', env: [{ name: 'A', value: '1' }] },
      { name: 'side', image: 'envoy:1' },
    ],
  })
  const patch = {
    spec: {
      template: {
        spec: {
          containers: [{ name: 'app', image: 'acme/web:2', env: [{ name: 'B', value: '2' }] }],
        },
      },
    },
  }
  const { json } = await call(
    standIn,
    'PATCH',
    WEB,
    patch,
    'application/strategic-merge-patch+json',
  )
  assert.deepEqual(json.spec.template.spec.containers, [
    {
      name: 'app',
      image: 'acme/web:2',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
    },
    { name: 'side', image: 'envoy:1' },
  ])
  assert.equal(json.metadata.generation, 2)
  const merged = await call(
    standIn,
    'PATCH',
    WEB,
    { metadata: { labels: { app: 'web', tier: 'x' } }, status: { replicas: 99 } },
    'application/merge-patch+json',
  )
  assert.equal(merged.json.metadata.generation, 2, 'a metadata change is not a spec change')
  assert.notEqual(merged.json.status.replicas, 99, 'status is ignored on the main resource')
  const replaced = await call(
    standIn,
    'PATCH',
    WEB,
    { spec: { template: { spec: { containers: [{ name: 'only', image: 'x:1' }] } } } },
    'application/merge-patch+json',
  )
  assert.equal(
    replaced.json.spec.template.spec.containers.length,
    1,
    'a JSON merge patch replaces lists',
  )
})

test('the stand-in applies JSON patches, refuses a failed test op with 422 and refuses invalid objects', async (t) => {
  const standIn = await KubeApiStandIn.start()
  t.after(() => standIn.close())
  standIn.add({ name: 'web', containers: [{ name: 'app', image: 'acme/web:1' }] })
  const failed = await call(
    standIn,
    'PATCH',
    WEB,
    [
      { op: 'test', path: '/spec/replicas', value: 5 },
      { op: 'replace', path: '/spec/replicas', value: 3 },
    ],
    'application/json-patch+json',
  )
  assert.equal(failed.status, 422)
  const ok = await call(
    standIn,
    'PATCH',
    WEB,
    [
      { op: 'test', path: '/spec/replicas', value: 1 },
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'acme/web:3' },
    ],
    'application/json-patch+json',
  )
  assert.equal(ok.json.spec.template.spec.containers[0].image, 'acme/web:3')
  const invalid = await call(
    standIn,
    'PATCH',
    WEB,
    {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'S', value: 'v', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
                ],
              },
            ],
          },
        },
      },
    },
    'application/strategic-merge-patch+json',
  )
  assert.equal(invalid.status, 422)
  assert.match(invalid.json.message, /may not be specified when `value` is not empty/)
  const unsupported = await call(standIn, 'PATCH', WEB, {}, 'application/json')
  assert.equal(unsupported.status, 415)
})

test('the stand-in scale subresource and controller converge replicas step by step', async (t) => {
  const standIn = await KubeApiStandIn.start()
  t.after(() => standIn.close())
  standIn.add({ name: 'web', containers: [{ name: 'app', image: 'acme/web:1' }] })
  const scaled = await call(
    standIn,
    'PATCH',
    `${WEB}/scale`,
    { spec: { replicas: 3 } },
    'application/merge-patch+json',
  )
  assert.deepEqual([scaled.json.kind, scaled.json.spec.replicas], ['Scale', 3])
  assert.equal(standIn.get('Deployment', 'default', 'web').metadata.generation, 2)
  standIn.step()
  const created = standIn.get('Deployment', 'default', 'web').status
  assert.deepEqual(
    [created.replicas, created.readyReplicas],
    [3, 1],
    'pods are created at once and ready a step later',
  )
  standIn.step()
  const status = standIn.get('Deployment', 'default', 'web').status
  assert.deepEqual(
    [status.observedGeneration, status.readyReplicas, status.conditions[0].reason],
    [2, 3, 'NewReplicaSetAvailable'],
  )
})

test('the stand-in keeps old pods and passes the progress deadline when new pods are stuck in ImagePullBackOff', async (t) => {
  const standIn = await KubeApiStandIn.start()
  t.after(() => standIn.close())
  standIn.failImages({ image: /:bad$/, reason: 'ImagePullBackOff' })
  standIn.add({
    name: 'web',
    replicas: 2,
    progressDeadlineSeconds: 30,
    containers: [{ name: 'app', image: 'acme/web:1' }],
  })
  standIn.edit('Deployment', 'default', 'web', {
    spec: { template: { spec: { containers: [{ name: 'app', image: 'acme/web:bad' }] } } },
  })
  for (let i = 0; i < 5; i++) {
    standIn.step()
  }
  const pods = standIn.pods('Deployment', 'default', 'web')
  assert.equal(pods.length, 3, 'two old pods and one surge pod')
  const stuck = pods.find((p) => p.spec.containers[0].image === 'acme/web:bad')
  assert.equal(stuck.status.containerStatuses[0].state.waiting.reason, 'ImagePullBackOff')
  assert.equal(
    standIn.get('Deployment', 'default', 'web').status.conditions[0].reason,
    'ReplicaSetUpdated',
  )
  standIn.advanceClock(31_000)
  standIn.step()
  const progressing = standIn.get('Deployment', 'default', 'web').status.conditions[0]
  assert.deepEqual([progressing.status, progressing.reason], ['False', 'ProgressDeadlineExceeded'])
})

test('a stand-in StatefulSet replaces pods from the highest ordinal and an OrderedReady one stalls on a broken pod', async (t) => {
  const standIn = await KubeApiStandIn.start()
  t.after(() => standIn.close())
  standIn.failImages({ image: 'db:bad', reason: 'CrashLoopBackOff' })
  standIn.add({
    kind: 'StatefulSet',
    name: 'db',
    replicas: 3,
    containers: [{ name: 'db', image: 'db:1' }],
  })
  const images = () =>
    standIn
      .pods('StatefulSet', 'default', 'db')
      .map((p) => `${p.metadata.name}=${p.spec.containers[0].image}`)
  standIn.edit('StatefulSet', 'default', 'db', {
    spec: { template: { spec: { containers: [{ name: 'db', image: 'db:2' }] } } },
  })
  for (let i = 0; i < 12; i++) {
    standIn.step()
  }
  assert.deepEqual(images(), ['db-0=db:2', 'db-1=db:2', 'db-2=db:2'])
  const status = standIn.get('StatefulSet', 'default', 'db').status
  assert.equal(status.currentRevision, status.updateRevision)
  standIn.edit('StatefulSet', 'default', 'db', {
    spec: { template: { spec: { containers: [{ name: 'db', image: 'db:bad' }] } } },
  })
  for (let i = 0; i < 12; i++) {
    standIn.step()
  }
  assert.deepEqual(
    images(),
    ['db-0=db:2', 'db-1=db:2', 'db-2=db:bad'],
    'the rollout stops at the broken pod',
  )
  standIn.edit('StatefulSet', 'default', 'db', {
    spec: { template: { spec: { containers: [{ name: 'db', image: 'db:2' }] } } },
  })
  for (let i = 0; i < 12; i++) {
    standIn.step()
  }
  assert.deepEqual(
    images(),
    ['db-0=db:2', 'db-1=db:2', 'db-2=db:bad'],
    'kubernetes/kubernetes#67250: the broken pod stays',
  )
})
