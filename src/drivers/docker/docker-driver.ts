/** The docker driver: redeploys and scales containers and Compose services on Docker Engine. */
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { Service } from '../../model/index.ts'
import { withoutDigest } from '../../registry/image-name.ts'
import { RegistryClient } from '../../registry/registry-client.ts'
import { DeployFailure } from '../deploy-failure.ts'
import type {
  Driver,
  DriverCapabilities,
  DriverContext,
  DriverOutcome,
  RedeployChange,
  ReplicaStatus,
  ResolvedImage,
  ServiceStatus,
} from '../driver.ts'
import {
  byComposeNumber,
  cloneOptions,
  composeIdentity,
  composeNumber,
  containerName,
  nextNumbers,
} from './compose-scale.ts'
import type { ContainerConfig, ContainerInspect, DockerClient } from './docker-client.ts'
import { engineStatus, toFilters } from './docker-client.ts'
import type { DockerEngineOptions } from './docker-engine.ts'
import { DockerEngine } from './docker-engine.ts'
import type { DockerTarget } from './docker-target.ts'
import {
  checkDockerTarget,
  COMPOSE_ONEOFF,
  describeTarget,
  labelFilters,
  parseDockerTarget,
} from './docker-target.ts'
import { applyGitBuild } from './git-build.ts'
import { waitHealthy } from './health-wait.ts'
import {
  DigestRefused,
  pinnedReference,
  resolveDigest,
  withCredentialSource,
} from './image-digest.ts'
import { ensureImage, imageReference } from './image-pull.ts'
import { replicaDrift } from './replica-drift.ts'
import type { Swap } from './replica-swap.ts'
import {
  finishSwap,
  isTransientName,
  lastLogLines,
  stopContainer,
  swapReplica,
  undoSwap,
} from './replica-swap.ts'
import { recoverInterruptedSwaps } from './swap-recovery.ts'

export interface DockerDriverOptions extends DockerEngineOptions {
  /**
   * Without a HEALTHCHECK, how long a new container must keep running to count, for services
   * whose `deploy.settle` says nothing. Default 2000.
   */
  settleMs?: number
  /** Where git-backed services are checked out to build, one folder each. Default <tmp>/deckhand-git. */
  gitDir?: string
  /** Asks registries for the digest a tag names; default one with no credentials. */
  registry?: RegistryClient
}

export class DockerDriver implements Driver {
  readonly name = 'docker' as const
  readonly capabilities: DriverCapabilities = Object.freeze({
    canScale: true,
    canChangeTag: true,
    canRollBack: true,
    waitsForHealth: true,
  })
  readonly #engine: DockerEngine
  readonly #settleMs: number
  readonly #client: DockerClient
  readonly #gitDir: string
  readonly #registry: RegistryClient

  constructor(options: DockerDriverOptions = {}) {
    this.#registry = options.registry ?? new RegistryClient()
    this.#engine = new DockerEngine(options)
    this.#settleMs = options.settleMs ?? 2000
    this.#client = this.#engine.client
    this.#gitDir = options.gitDir ?? join(tmpdir(), 'deckhand-git')
  }

  /** The socket this driver talks to, as `unix://…`, for messages and /readyz. */
  get endpoint(): string {
    return this.#engine.endpoint
  }

  checkTarget(target: Record<string, unknown>): string[] {
    return checkDockerTarget(target)
  }

  async redeploy(
    service: Service,
    asked: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    // A git-backed redeploy builds its commit first, then runs the tag the build made.
    const { change, pull } = await applyGitBuild(this.#client, this.#gitDir, service, asked, ctx)
    const target = parseDockerTarget(service.target)
    await recoverInterruptedSwaps(this.#client, target, ctx)
    const containers = await this.#find(target)
    // Every image is made present before the first container is touched, so a tag that does
    // not exist fails the deployment with nothing changed.
    const unpinned = (container: ContainerInspect): string =>
      imageReference(
        withoutDigest(container.Config.Image ?? container.Image),
        service.image,
        change.tag,
      )
    // The digest was resolved for the first container's image (resolveImage).
    const resolvedFor = containers[0] ? unpinned(containers[0]) : ''
    const runs = (container: ContainerInspect): string =>
      pinnedReference(unpinned(container), change.digest, resolvedFor)
    const references = new Set(containers.map(runs))
    for (const reference of references) {
      await ensureImage(this.#client, reference, pull, ctx.log, this.#engine.credentials)
    }
    const swaps: Swap[] = []
    for (const container of containers) {
      throwIfCanceled(ctx)
      try {
        swaps.push(
          await swapReplica(
            this.#client,
            container,
            {
              image: runs(container),
              oldImage: await this.#imageConfig(container.Image),
              env: change.env,
              order: service.deploy.order,
              healthTimeoutMs: service.deploy.healthTimeoutMs,
              settleMs: service.deploy.settleMs ?? this.#settleMs,
              rollback: service.deploy.rollback,
            },
            ctx,
          ),
        )
      } catch (error) {
        if (service.deploy.rollback) {
          // Replicas already replaced go back too: the service ends on one version, the old.
          for (const swap of swaps.reverse()) {
            await undoSwap(this.#client, swap, ctx)
          }
        }
        throw error
      }
    }
    for (const swap of swaps) {
      await finishSwap(this.#client, swap, ctx)
    }
    const deployed = service.replicas ?? 0
    if (target.kind === 'compose' && deployed > containers.length) {
      // Drift: replicas removed by hand since Deckhand deployed them come back, cloned from the new ones.
      ctx.log(
        `${deployed - containers.length} of ${deployed} replicas are missing; recreating them`,
      )
      const current = await this.#find(target)
      const identity = composeIdentity(current)
      if (typeof identity !== 'string') {
        const outcome = await this.#scaleUp(current, identity, deployed, change, service, ctx)
        return outcome.state === 'succeeded' ? { ...outcome, tag: change.tag ?? null } : outcome
      }
    }
    return { state: 'succeeded', replicas: containers.length, tag: change.tag ?? null }
  }

  async resolveImage(
    service: Service,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<ResolvedImage | null> {
    let reference: string | undefined
    try {
      const [first] = await this.#find(parseDockerTarget(service.target))
      if (!first) {
        return null
      }
      reference = imageReference(
        withoutDigest(first.Config.Image ?? first.Image),
        service.image,
        change.tag,
      )
      if (change.digest) {
        return { image: reference, digest: change.digest }
      }
      return await resolveDigest(this.#client, this.#registry, reference, service.deploy.pull, ctx)
    } catch (error) {
      // Only the registry's refusal fails here; a missing container or an engine away is
      // the redeploy's to report (and retry) inside the guard, as without digests.
      if (error instanceof DigestRefused) {
        throw await withCredentialSource(error, this.#engine.credentials, reference ?? '')
      }
      return null
    }
  }

  async scale(
    service: Service,
    replicas: number,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const target = parseDockerTarget(service.target)
    await recoverInterruptedSwaps(this.#client, target, ctx)
    const containers = await this.#find(target)
    const identity = composeIdentity(containers)
    if (typeof identity === 'string') {
      throw new DeployFailure(`cannot scale ${describeTarget(target)}: ${identity}`)
    }
    if (replicas < 1) {
      throw new DeployFailure(
        `cannot scale ${describeTarget(target)} to ${replicas}: the docker driver clones new replicas from a running one, so it keeps at least one; set scale.min to 1`,
      )
    }
    if (replicas === containers.length) {
      ctx.log(`${identity.project}/${identity.service} already has ${replicas} replicas`)
      return { state: 'succeeded', replicas }
    }
    if (replicas < containers.length) {
      for (const container of byComposeNumber(containers).slice(replicas).reverse()) {
        ctx.log(`removing ${containerName(container)} (number ${composeNumber(container)})`)
        await stopContainer(this.#client.getContainer(container.Id), container)
        await this.#client.getContainer(container.Id).remove({ force: true })
      }
      return { state: 'succeeded', replicas }
    }
    return this.#scaleUp(containers, identity, replicas, change, service, ctx)
  }

  async #scaleUp(
    containers: ContainerInspect[],
    identity: Exclude<ReturnType<typeof composeIdentity>, string>,
    replicas: number,
    change: RedeployChange,
    service: Service,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const ordered = byComposeNumber(containers)
    const template =
      ordered.filter((container) => container.State.Running).at(-1) ?? ordered.at(-1)!
    const created: string[] = []
    try {
      for (const number of nextNumbers(ordered, replicas - containers.length)) {
        throwIfCanceled(ctx)
        const { options, extraNetworks } = cloneOptions(template, identity, number, change.env)
        ctx.log(`creating ${options.name} from ${containerName(template)}`)
        const { id } = await this.#client.createContainer(options)
        created.push(id)
        for (const [network, endpoint] of extraNetworks) {
          await this.#client
            .getNetwork(network)
            .connect({ Container: id, EndpointConfig: endpoint })
        }
        const container = this.#client.getContainer(id)
        await container.start()
        const timeoutMs = Math.round(
          Math.max(1000, Math.min(service.deploy.healthTimeoutMs, ctx.deadline - Date.now())),
        )
        const health = await waitHealthy(container, {
          timeoutMs,
          settleMs: service.deploy.settleMs ?? this.#settleMs,
          signal: ctx.signal,
        })
        if (!health.healthy) {
          const lines = await lastLogLines(container)
          throw new DeployFailure(
            `the new replica ${options.name} did not become healthy: ${health.reason}` +
              (lines.length > 0 ? `; its last log lines:\n${lines.slice(-10).join('\n')}` : ''),
          )
        }
        ctx.log(`${options.name}: healthy after ${health.elapsedMs} ms (${health.how})`)
      }
    } catch (error) {
      ctx.log(`removing the ${created.length} replica(s) this scale created`)
      for (const id of created) {
        await this.#client
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined)
      }
      throw error
    }
    return { state: 'succeeded', replicas }
  }

  /** A throw of redeploy or scale, for GuardedDriver: our own wording, or the engine's refusal. */
  describeFailure(error: unknown): string {
    return this.#engine.failureMessage(error)
  }

  async inspect(service: Service): Promise<ServiceStatus> {
    const target = parseDockerTarget(service.target)
    const containers = await this.#find(target).catch((error: unknown) => {
      if (error instanceof DeployFailure) {
        return []
      }
      throw this.#engine.unreachable(error) ?? error
    })
    const items = containers.map(replicaStatus)
    const running = containers.filter((container) => container.State.Running).length
    const drift = replicaDrift(target, service.replicas, containers)
    return {
      replicas: running,
      ready: items.filter((item) => item.state === 'running').length,
      // The count Deckhand last set; a service never scaled wants what it was found with (at least its minimum).
      desired: service.replicas ?? Math.max(containers.length, service.scale.min, 1),
      image: containers[0]?.Config.Image ?? null,
      healthy: containers.length === 0 ? false : items.every((item) => item.state === 'running'),
      items,
      ...(containers.length === 0
        ? { detail: `no container matches ${describeTarget(target)}` }
        : {}),
      ...(drift.length > 0 ? { drift } : {}),
    }
  }

  async attach(): Promise<void> {}

  async detach(): Promise<void> {}

  async ping(): Promise<void> {
    await this.#engine.ping()
  }

  async close(): Promise<void> {}

  async #find(target: DockerTarget): Promise<ContainerInspect[]> {
    if (target.kind === 'container') {
      const found = await this.#client
        .getContainer(target.container)
        .inspect()
        .catch((error: unknown) => {
          if (engineStatus(error) === 404) {
            return null
          }
          throw error
        })
      if (!found) {
        throw new DeployFailure(
          `no container matches ${describeTarget(target)} on ${this.endpoint}; check the name with docker ps -a`,
        )
      }
      return [found]
    }
    const summaries = await this.#client.listContainers({
      all: true,
      filters: toFilters({ label: labelFilters(target) }),
    })
    const matched = summaries.filter(
      (summary) =>
        summary.Labels[COMPOSE_ONEOFF] !== 'True' &&
        !summary.Names.some((name) => isTransientName(name.replace(/^\//, ''))),
    )
    if (matched.length === 0) {
      throw new DeployFailure(`no container matches ${describeTarget(target)} on ${this.endpoint}`)
    }
    const inspected = await Promise.all(
      matched.map((summary) => this.#client.getContainer(summary.Id).inspect()),
    )
    return byComposeNumber(inspected)
  }

  async #imageConfig(imageId: string): Promise<ContainerConfig | null> {
    // An image removed since the container started: everything in Config counts as chosen.
    return (
      (
        await this.#client
          .getImage(imageId)
          .inspect()
          .catch(() => null)
      )?.Config ?? null
    )
  }
}

function throwIfCanceled(ctx: DriverContext): void {
  if (ctx.signal.aborted) {
    throw new DeployFailure('the deployment was canceled before every replica was replaced')
  }
}

function replicaStatus(container: ContainerInspect): ReplicaStatus {
  const state = container.State
  const health = state.Health?.Status
  const ports = publishedPorts(container)
  const status: ReplicaStatus['state'] = state.Restarting
    ? 'restarting'
    : state.Running
      ? health === 'starting'
        ? 'starting'
        : health === 'unhealthy'
          ? 'crashed'
          : 'running'
      : state.Status === 'dead' || (state.Status === 'exited' && state.ExitCode !== 0)
        ? 'crashed'
        : 'stopped'
  return {
    id: containerName(container),
    state: status,
    detail: `${container.Config.Image ?? container.Image} ${state.Status}${health ? ` (${health})` : ''}`,
    restarts: container.RestartCount,
    container: container.Id.slice(0, 12),
    ...(ports ? { port: ports } : {}),
    ...(health ? { health } : {}),
    ...(state.Running ? { startedAt: state.StartedAt } : {}),
  }
}

/**
 * Published ports as `docker ps` shows them: `0.0.0.0:8080->80/tcp`, comma-separated. A
 * container on the host network publishes nothing (`docker ps` shows no port) yet listens on the
 * host: its exposed ports are shown as `8080/tcp (host network)`.
 */
function publishedPorts(container: ContainerInspect): string {
  const shown: string[] = []
  for (const [inside, bindings] of Object.entries(container.NetworkSettings.Ports ?? {})) {
    for (const binding of bindings ?? []) {
      shown.push(`${binding.HostIp || '0.0.0.0'}:${binding.HostPort}->${inside}`)
    }
  }
  if (shown.length === 0 && container.HostConfig.NetworkMode === 'host') {
    for (const exposed of Object.keys(container.Config.ExposedPorts ?? {})) {
      shown.push(`${exposed} (host network)`)
    }
  }
  return shown.join(', ')
}
