/**
 * Deployments for the driver contract run as the server runs them: queued in a SQLite store on a
 * temp file and carried out by the real DeploymentWorker, so the contract sees the service row
 * and the deployment record as a failed redeploy leaves them, not only the runtime.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

import pino from 'pino'

import { EventBus } from '../events.ts'
import { newId } from '../model/ids.ts'
import type { Deployment, DeploymentAction, DeploymentParams, Service } from '../model/index.ts'
import { DeploymentWorker } from '../queue/deployment-worker.ts'
import { SqliteStore } from '../store/sqlite/sqlite-store.ts'
import type { ServiceInput, Store } from '../store/store.ts'
import type { Driver, RedeployChange } from './driver.ts'
import { DriverRegistry } from './driver-registry.ts'

export interface ContractDeployments {
  store: Store
  /** Replaces the service's spec in its row, as a PATCH does (no redeploy runs it). */
  patch(service: Service): Promise<void>
  /** Queues a redeploy with the change's tag and variables and resolves when it has ended. */
  redeploy(change: RedeployChange): Promise<Deployment>
  /** Queues a scale to `replicas` and resolves when it has ended. */
  scale(replicas: number): Promise<Deployment>
}

/** A store holding `service` and a worker running `driver`; both closed when the test ends. */
export async function contractDeployments(
  t: TestContext,
  driver: Driver,
  service: Service,
): Promise<ContractDeployments> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-contract-'))
  const store = new SqliteStore(join(dir, 'deckhand.db'))
  await store.migrate()
  const events = new EventBus((error, event) =>
    t.diagnostic(`listener of ${event} failed: ${String(error)}`),
  )
  const worker = new DeploymentWorker({
    store,
    drivers: new DriverRegistry([driver]),
    events,
    logger: pino({ level: 'silent' }),
    owner: `contract-${process.pid}`,
  })
  // Whichever comes first, the end or the wish to hear of it, the other finds it here.
  const finished = new Map<string, Deployment>()
  const waiting = new Map<string, (deployment: Deployment) => void>()
  events.on('deployment:finished', ({ deployment }) => {
    finished.set(deployment.id, deployment)
    waiting.get(deployment.id)?.(deployment)
  })
  worker.start()
  t.after(async () => {
    await worker.stop(5000)
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  await store.createService(inputOf(service))
  return {
    store,
    patch: async (changed) => {
      // A PATCH leaves what the worker recorded (the tag and replicas that run) as it is.
      const { tag: _tag, replicas: _replicas, ...spec } = inputOf(changed)
      await store.replaceService(spec)
    },
    redeploy: (change) =>
      run('redeploy', change.tag === undefined ? {} : { tag: change.tag }, change.env),
    scale: (replicas) => run('scale', { replicas }, {}),
  }

  async function run(
    action: DeploymentAction,
    params: DeploymentParams,
    env: Record<string, string>,
  ): Promise<Deployment> {
    const accepted = await store.acceptCall(
      { id: newId('call'), triggerId: null, sender: 'api', deliveryId: null, remoteAddress: null },
      [
        {
          service: service.name,
          action,
          params,
          input: {
            triggerName: null,
            env,
            body: null,
            bodyTooLarge: false,
            gitCommit: null,
            gitBranch: null,
          },
          triggerId: null,
        },
      ],
    )
    const result = accepted.results[0]
    if (result?.kind !== 'queued') {
      throw new Error(`the ${action} was not queued: ${JSON.stringify(result)}`)
    }
    const id = result.deployment.id
    const done = new Promise<Deployment>((resolve) => waiting.set(id, resolve))
    events.emit('deployment:queued', { deployment: result.deployment })
    return finished.get(id) ?? done
  }
}

function inputOf(service: Service): ServiceInput {
  const { createdAt: _created, updatedAt: _updated, deployed: _deployed, ...input } = service
  return input
}
