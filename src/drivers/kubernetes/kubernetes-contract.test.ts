/** The shared driver contract, run by the kubernetes driver against the Kubernetes API stand-in. */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { KubeApiStandIn } from '../../../test/support/kube-api-stand-in.ts'
import { makeService, runDriverContract } from '../driver-contract.ts'
import { KubernetesDriver } from './kubernetes-driver.ts'

runDriverContract(
  'kubernetes (against the Kubernetes API stand-in, not a live cluster)',
  async () => {
    const standIn = await KubeApiStandIn.start()
    // Broken pods never pull their image; slow ones stay ContainerCreating until the test ends.
    standIn.failImages({ image: /:bad$/, reason: 'ImagePullBackOff' })
    standIn.failImages({ image: /:slow$/, reason: 'ContainerCreating' })
    standIn.startControllers(10)
    const dir = await mkdtemp(join(tmpdir(), 'deckhand-kube-contract-'))
    const kubeconfigPath = join(dir, 'kubeconfig')
    await writeFile(kubeconfigPath, standIn.kubeconfig())
    const edit = (name: string, progressDeadlineSeconds: number): void =>
      standIn.edit('Deployment', 'default', name, { spec: { progressDeadlineSeconds } })
    return {
      driver: new KubernetesDriver({ kubeconfigPath, pollMs: 20 }),
      service: () => {
        const name = `contract-${randomUUID().slice(0, 8)}`
        standIn.add({ name, replicas: 1, containers: [{ name: 'app', image: 'acme/web:1' }] })
        return makeService({
          name,
          driver: 'kubernetes',
          target: { namespace: 'default', kind: 'Deployment', name },
          image: 'acme/web',
        })
      },
      // What a running replica sees: the environment of the newest ready pod.
      observeEnv: async (service) => {
        const pods = standIn.pods('Deployment', 'default', String(service.target.name))
        const ready = pods.filter((pod) =>
          pod.status.conditions.some(
            (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
          ),
        )
        const env: Array<{ name: string; value?: string }> =
          ready.at(-1)?.spec.containers[0].env ?? []
        return Object.fromEntries(env.map((entry) => [entry.name, entry.value ?? '']))
      },
      // A 1 s progress deadline, as an operator would set with kubectl patch, keeps the test short.
      brokenRedeploy: (service) => {
        edit(String(service.target.name), 1)
        return { service, change: { tag: 'bad', env: {} } }
      },
      slowRedeploy: (service) => ({ service, change: { tag: 'slow', env: {} } }),
      cleanup: async () => {
        await standIn.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
)
