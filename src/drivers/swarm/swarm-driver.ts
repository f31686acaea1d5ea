/** The swarm driver: redeploys and scales Docker Swarm services and follows them to the end. */
import type { Service } from '../../model/index.ts'
import { withoutDigest } from '../../registry/image-name.ts'
import { RegistryClient } from '../../registry/registry-client.ts'
import type { RegistryAuth } from '../../registry/registry-credentials.ts'
import { DeployFailure } from '../deploy-failure.ts'
import type {
  DockerClient,
  SwarmServiceInspect,
  SwarmServiceSpec,
} from '../docker/docker-client.ts'
import { engineMessage, engineStatus, toFilters } from '../docker/docker-client.ts'
import type { DockerEngineOptions } from '../docker/docker-engine.ts'
import { DockerEngine } from '../docker/docker-engine.ts'
import {
  DigestRefused,
  pinnedReference,
  resolveDigest,
  withCredentialSource,
} from '../docker/image-digest.ts'
import { imageReference } from '../docker/image-pull.ts'
import { mergeEnv } from '../docker/recreate.ts'
import type {
  Driver,
  DriverCapabilities,
  DriverContext,
  DriverOutcome,
  RedeployChange,
  ResolvedImage,
  ServiceStatus,
} from '../driver.ts'
import { followScale, followUpdate, runningTasks, TaskWatcher } from './swarm-follow.ts'
import { namePullFailure } from './swarm-pull-failure.ts'
import { checkSwarmTarget, parseSwarmTarget } from './swarm-target.ts'
import { servicePorts, taskStatus } from './task-status.ts'

/** How followUpdate begins the error of an update Swarm paused. */
const PAUSED = 'the update was paused by Swarm'

/** A Swarm manager is a Docker engine: its socket, or a client to use instead of dockerode. */
export interface SwarmDriverOptions extends DockerEngineOptions {
  /** Asks registries for the digest a tag names; default one with no credentials. */
  registry?: RegistryClient
}

export class SwarmDriver implements Driver {
  readonly name = 'swarm' as const
  readonly capabilities: DriverCapabilities = Object.freeze({
    canScale: true,
    canChangeTag: true,
    // Swarm rolls back by itself when the service's update failure action says so.
    canRollBack: true,
    waitsForHealth: true,
  })
  readonly #engine: DockerEngine
  readonly #client: DockerClient
  readonly #registry: RegistryClient

  constructor(options: SwarmDriverOptions = {}) {
    this.#registry = options.registry ?? new RegistryClient()
    this.#engine = new DockerEngine(options)
    this.#client = this.#engine.client
  }

  /** The manager's socket as `unix://…`, for messages and /readyz. */
  get endpoint(): string {
    return this.#engine.endpoint
  }

  checkTarget(target: Record<string, unknown>): string[] {
    return checkSwarmTarget(target)
  }

  async redeploy(
    service: Service,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const { service: name } = parseSwarmTarget(service.target)
    const current = await this.#inspect(name)
    const watcher = new TaskWatcher(this.#client, name, ctx)
    await watcher.poll()
    let updatedImage = ''
    await this.#update(
      name,
      current,
      (spec) => {
        const container = ((spec.TaskTemplate ??= {}).ContainerSpec ??= {})
        // Pinned like `docker service update --image` pins: every node runs the same manifest.
        const unpinned = imageReference(
          withoutDigest(container.Image ?? ''),
          service.image,
          change.tag,
        )
        if (change.tag !== undefined || change.digest !== undefined) {
          container.Image = pinnedReference(unpinned, change.digest, unpinned)
        }
        if (Object.keys(change.env).length > 0) {
          container.Env = mergeEnv(container.Env ?? [], change.env)
        }
        // A count changed by hand (docker service scale) is drift: the redeploy converges.
        const replicated = spec.Mode?.Replicated
        if (replicated && service.replicas !== null && replicated.Replicas !== service.replicas) {
          ctx.log(
            `Swarm service ${name} asks for ${replicated.Replicas ?? 0} replicas; setting the ${service.replicas} Deckhand deployed`,
          )
          replicated.Replicas = service.replicas
        }
        // ForceUpdate makes Swarm replace every task even when nothing else changed.
        spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1
        updatedImage = container.Image ?? ''
        ctx.log(
          `updating Swarm service ${name}: image ${container.Image}, ForceUpdate ${spec.TaskTemplate.ForceUpdate}`,
        )
      },
      ctx,
    )
    const outcome = await followUpdate(
      this.#client,
      current.ID,
      current.UpdateStatus?.StartedAt,
      watcher,
      ctx,
    )
    if (outcome.state === 'succeeded') {
      return { ...outcome, tag: change.tag ?? null }
    }
    // Swarm's default failure action is pause: the service keeps the failed spec, its
    // replaced tasks stay broken. deploy.rollback promises the old spec back, so ask for it.
    const failed =
      outcome.error.startsWith(PAUSED) && service.deploy.rollback && !ctx.signal.aborted
        ? await this.#rollBack(name, outcome.error, watcher, ctx)
        : outcome
    return logged(await namePullFailure(failed, updatedImage, this.#engine.credentials), ctx)
  }

  async resolveImage(
    service: Service,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<ResolvedImage | null> {
    let reference: string | undefined
    try {
      const current = await this.#inspect(parseSwarmTarget(service.target).service)
      const image = current.Spec.TaskTemplate?.ContainerSpec?.Image
      if (!image) {
        return null
      }
      reference = imageReference(withoutDigest(image), service.image, change.tag)
      if (change.digest) {
        return { image: reference, digest: change.digest }
      }
      // The manager's copy stands for the nodes' when deploy.pull keeps to the engine.
      return await resolveDigest(this.#client, this.#registry, reference, service.deploy.pull, ctx)
    } catch (error) {
      // As in the docker driver: only the registry's refusal fails before the update.
      if (error instanceof DigestRefused) {
        throw await withCredentialSource(error, this.#engine.credentials, reference ?? '')
      }
      return null
    }
  }

  async scale(
    service: Service,
    replicas: number,
    _change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const { service: name } = parseSwarmTarget(service.target)
    const current = await this.#inspect(name)
    if (!current.Spec.Mode?.Replicated) {
      throw new DeployFailure(
        `Swarm service ${name} runs in global mode, one task per node; it cannot be scaled`,
      )
    }
    const watcher = new TaskWatcher(this.#client, name, ctx)
    await watcher.poll()
    if (current.Spec.Mode.Replicated.Replicas !== replicas) {
      await this.#update(
        name,
        current,
        (spec) => {
          spec.Mode = { Replicated: { Replicas: replicas } }
          ctx.log(
            `scaling Swarm service ${name} from ${current.Spec.Mode?.Replicated?.Replicas ?? 0} to ${replicas} replicas`,
          )
        },
        ctx,
      )
    }
    const timeoutMs = Math.max(
      1000,
      Math.min(service.deploy.healthTimeoutMs, ctx.deadline - Date.now()),
    )
    return logged(await followScale(replicas, timeoutMs, watcher, ctx), ctx)
  }

  /** A throw of redeploy or scale, for GuardedDriver: our own wording, or the engine's refusal. */
  describeFailure(error: unknown): string {
    return this.#engine.failureMessage(error)
  }

  async inspect(service: Service): Promise<ServiceStatus> {
    const { service: name } = parseSwarmTarget(service.target)
    let current: SwarmServiceInspect
    try {
      current = await this.#inspect(name)
    } catch (error) {
      if (error instanceof DeployFailure) {
        return {
          replicas: null,
          ready: null,
          desired: null,
          image: null,
          healthy: false,
          items: [],
          detail: error.message,
        }
      }
      throw this.#engine.unreachable(error) ?? error
    }
    const tasks = await this.#client.listTasks({
      filters: toFilters({ service: [name] }),
    })
    const wanted = tasks.filter((task) => task.DesiredState === 'running')
    const running = runningTasks(tasks).length
    const desired = current.Spec.Mode?.Replicated?.Replicas ?? wanted.length
    const drift = swarmDrift(service, current)
    const ports = servicePorts(current)
    return {
      replicas: running,
      ready: running,
      desired,
      ...(drift.length > 0 ? { drift } : {}),
      image: current.Spec.TaskTemplate?.ContainerSpec?.Image?.split('@')[0] ?? null,
      healthy: running === desired,
      items: wanted.map((task) => taskStatus(name, task, tasks, ports)),
    }
  }

  async attach(): Promise<void> {}

  async detach(): Promise<void> {}

  async ping(): Promise<void> {
    await this.#engine.ping()
  }

  async close(): Promise<void> {}

  async #inspect(name: string): Promise<SwarmServiceInspect> {
    try {
      return await this.#client.getService(name).inspect()
    } catch (error) {
      if (engineStatus(error) === 404) {
        throw new DeployFailure(
          `no Swarm service named "${name}" on ${this.endpoint}; check docker service ls`,
        )
      }
      if (engineStatus(error) === 503) {
        throw new DeployFailure(
          `the engine at ${this.endpoint} is not a Swarm manager: ${engineMessage(error)}`,
        )
      }
      throw error
    }
  }

  /** `docker service rollback`: back to the spec before the paused update, followed to its end. */
  async #rollBack(
    name: string,
    pausedError: string,
    watcher: TaskWatcher,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    ctx.log(`rolling Swarm service ${name} back to its previous spec (deploy.rollback)`)
    const paused = await this.#inspect(name)
    await this.#client.getService(paused.ID).update({
      _query: { version: paused.Version.Index, rollback: 'previous' },
      _body: paused.Spec,
    })
    const rolled = await followUpdate(
      this.#client,
      paused.ID,
      paused.UpdateStatus?.StartedAt,
      watcher,
      ctx,
    )
    const restored =
      rolled.state === 'failed' && rolled.error.startsWith('the update was rolled back')
    return {
      state: 'failed',
      error: restored
        ? `${pausedError}; Deckhand rolled it back to the previous spec (deploy.rollback)`
        : `${pausedError}; the rollback Deckhand asked for did not end well: ${rolled.state === 'failed' ? rolled.error : 'it completed as an update'}`,
    }
  }

  /** Applies `edit` to a copy of the spec at the current version; retries once on a race. */
  async #update(
    name: string,
    current: SwarmServiceInspect,
    edit: (spec: SwarmServiceSpec) => void,
    ctx: DriverContext,
  ): Promise<void> {
    let base = current
    for (let attempt = 1; ; attempt++) {
      const spec = structuredClone(base.Spec)
      edit(spec)
      // `--with-registry-auth`: the manager hands the credentials to the workers that pull.
      const authconfig = await this.#registryAuth(spec)
      try {
        await this.#client.getService(base.ID).update({
          _query: { version: base.Version.Index },
          _body: spec,
          ...(authconfig === undefined ? {} : { authconfig }),
        })
        return
      } catch (error) {
        // "update out of sequence": someone changed the service since we read its version.
        if (attempt > 1 || !/out of sequence/i.test(engineMessage(error))) {
          throw error
        }
        ctx.log(`Swarm service ${name} changed while we updated it; reading it again`)
        base = await this.#inspect(name)
      }
    }
  }

  /** The credentials for the spec's image, or undefined; DeployFailure when they cannot be read. */
  async #registryAuth(spec: SwarmServiceSpec): Promise<RegistryAuth | undefined> {
    const image = spec.TaskTemplate?.ContainerSpec?.Image
    if (this.#engine.credentials === undefined || !image) {
      return undefined
    }
    try {
      return (await this.#engine.credentials.forImage(image)).auth
    } catch (error) {
      throw new DeployFailure(
        `Swarm service not updated, nothing was changed: ${(error as Error).message}`,
        { cause: error },
      )
    }
  }
}

/** What Swarm said of a failed update goes to the log whole; the guard's summary has one line. */
function logged(outcome: DriverOutcome, ctx: DriverContext): DriverOutcome {
  if (outcome.state === 'failed') {
    ctx.log(outcome.error)
  }
  return outcome
}

/**
 * What differs between the Swarm service's spec and what Deckhand last deployed: a replica count
 * or an image tag changed by hand (`docker service scale`, `docker service update --image`).
 */
function swarmDrift(service: Service, current: SwarmServiceInspect): string[] {
  const drift: string[] = []
  const replicas = current.Spec.Mode?.Replicated?.Replicas
  if (service.replicas !== null && replicas !== undefined && replicas !== service.replicas) {
    drift.push(
      `the Swarm service asks for ${replicas} replicas; Deckhand deployed ${service.replicas}`,
    )
  }
  const image = current.Spec.TaskTemplate?.ContainerSpec?.Image?.split('@')[0]
  if (service.tag !== null && image !== undefined && !image.endsWith(`:${service.tag}`)) {
    drift.push(`the Swarm service runs ${image}; Deckhand deployed tag ${service.tag}`)
  }
  return drift
}
