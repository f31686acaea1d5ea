/** Replaces one container by a new one under the same name, and undoes that when asked. */
import type { DeployOrder } from '../../model/index.ts'
import { DeployFailure } from '../deploy-failure.ts'
import type { DriverContext } from '../driver.ts'
import { containerName } from './compose-scale.ts'
import type {
  ContainerConfig,
  ContainerInspect,
  DockerClient,
  DockerContainer,
} from './docker-client.ts'
import { demuxLogs, engineStatus, isUnreachable } from './docker-client.ts'
import { waitHealthy } from './health-wait.ts'
import { replacementFor, startFirstConflict } from './recreate.ts'
import { engineAnswers, transientParts, waitForEngine } from './swap-recovery.ts'

export interface SwapOptions {
  image: string
  oldImage: ContainerConfig | null
  env: Record<string, string>
  order: DeployOrder
  healthTimeoutMs: number
  settleMs: number
  rollback: boolean
}

/** A finished swap: the new container has the name, the old one is parked, stopped. */
export interface Swap {
  name: string
  oldId: string
  newId: string
  parkedName: string
  wasRunning: boolean
}

// Transient names carry this marker; targets never match them (see isTransientName).
const MARKER = '--deckhand-'

/** True for the temporary and parked names a swap uses, left behind only by a crash. */
export function isTransientName(name: string): boolean {
  return transientParts(name) !== null
}

/** Creates, starts and health-checks a replacement for `old`; undoes itself on failure. */
export async function swapReplica(
  client: DockerClient,
  old: ContainerInspect,
  options: SwapOptions,
  ctx: DriverContext,
): Promise<Swap> {
  const name = containerName(old)
  const suffix =
    ctx.deploymentId
      .replace(/[^a-zA-Z0-9]/g, '')
      .slice(-8)
      .toLowerCase() || 'x'
  const tempName = `${name}${MARKER}next-${suffix}`
  const parkedName = `${name}${MARKER}old-${suffix}`
  const wasRunning = old.State.Running
  let order = options.order
  const conflict = order === 'start-first' && wasRunning ? startFirstConflict(old) : null
  if (conflict) {
    ctx.log(`${name}: stop-first instead of start-first, because ${conflict}`)
    order = 'stop-first'
  }
  const { options: create, extraNetworks } = replacementFor(
    old,
    options.oldImage,
    options.image,
    options.env,
    tempName,
  )
  ctx.log(
    `${name}: creating ${tempName} from ${old.Config.Image ?? old.Image} with image ${options.image} (${order})`,
  )
  const { id } = await client.createContainer(create)
  const fresh = client.getContainer(id)
  const previous = client.getContainer(old.Id)
  let oldStopped = false
  try {
    for (const [network, endpoint] of extraNetworks) {
      await client.getNetwork(network).connect({ Container: id, EndpointConfig: endpoint })
    }
    if (order === 'stop-first' && wasRunning) {
      ctx.log(`${name}: stopping the old container ${old.Id.slice(0, 12)} first`)
      oldStopped = true
      await stopContainer(previous, old)
    }
    await fresh.start()
    const probe = Boolean((await fresh.inspect()).State.Health)
    // The deadline aborts ctx.signal, which ends the wait; GuardedDriver then gives the
    // rollback below its settle time, so no time is held back from the health wait here.
    const timeoutMs = Math.round(
      Math.max(1000, Math.min(options.healthTimeoutMs, ctx.deadline - Date.now())),
    )
    ctx.log(
      `${name}: started ${id.slice(0, 12)}, waiting up to ${timeoutMs} ms for ${probe ? 'its health check' : `it to keep running for ${options.settleMs} ms`}`,
    )
    const health = await waitHealthy(fresh, {
      timeoutMs,
      settleMs: options.settleMs,
      signal: ctx.signal,
    })
    if (!health.healthy) {
      const lines = await lastLogLines(fresh)
      for (const line of lines) {
        ctx.log(line, 'stdout')
      }
      throw new DeployFailure(
        `the new container for ${name} (${options.image}) did not become healthy: ${health.reason}` +
          (lines.length > 0
            ? `; its last log lines:\n${lines.slice(-10).join('\n')}`
            : '; it wrote no log lines'),
      )
    }
    ctx.log(`${name}: healthy after ${health.elapsedMs} ms (${health.how})`)
    if (wasRunning && !oldStopped) {
      oldStopped = true
      await stopContainer(previous, old)
    }
    await previous.rename({ name: parkedName })
    await fresh.rename({ name })
    return { name, oldId: old.Id, newId: id, parkedName, wasRunning }
  } catch (error) {
    if (!options.rollback) {
      ctx.log(
        `${name}: deploy.rollback is off, leaving ${tempName} for inspection and the old container as it is`,
      )
      throw error
    }
    // Rolling back needs the engine. One that went away mid-swap (restarted, socket briefly
    // gone) usually returns; waiting for it, as long as health would have been waited for,
    // leaves the old container whole now rather than for the next deployment to restore. An
    // engine going away can fail a request with an error that names no connection code (CI saw
    // the health wait fail so, then the rollback find the socket gone), so the engine is asked
    // directly whenever the error does not say.
    if (isUnreachable(error) || !(await engineAnswers(client))) {
      ctx.log(
        `${name}: lost the engine mid-swap; waiting up to ${options.healthTimeoutMs} ms for the Docker engine to come back before rolling back`,
      )
      if (!(await waitForEngine(client, options.healthTimeoutMs, ctx.signal))) {
        ctx.log(`${name}: the engine did not come back; the next deployment undoes this swap first`)
        throw error
      }
    }
    ctx.log(`${name}: rolling back, removing ${tempName} and keeping the old container`)
    await fresh.remove({ force: true }).catch(ignoreMissing)
    const current = await previous.inspect()
    if (containerName(current) !== name) {
      await previous.rename({ name })
    }
    if (oldStopped && !current.State.Running) {
      await previous.start()
    }
    throw error
  }
}

/** Puts a finished swap back: the new container goes, the parked old one returns and starts. */
export async function undoSwap(
  client: DockerClient,
  swap: Swap,
  ctx: DriverContext,
): Promise<void> {
  ctx.log(`${swap.name}: rolling back to ${swap.oldId.slice(0, 12)}`)
  await client.getContainer(swap.newId).remove({ force: true }).catch(ignoreMissing)
  const previous = client.getContainer(swap.oldId)
  await previous.rename({ name: swap.name })
  if (swap.wasRunning) {
    await previous.start()
  }
}

/** Removes the parked old container; its volumes stay, the new container mounts them. */
export async function finishSwap(
  client: DockerClient,
  swap: Swap,
  ctx: DriverContext,
): Promise<void> {
  await client.getContainer(swap.oldId).remove({ force: true }).catch(ignoreMissing)
  ctx.log(`${swap.name}: removed the old container ${swap.oldId.slice(0, 12)}`)
}

/** Stops with the container's own stop timeout (default 10 s, as `docker stop`). */
export async function stopContainer(
  container: DockerContainer,
  inspected: ContainerInspect,
): Promise<void> {
  await container.stop({ t: inspected.Config.StopTimeout ?? 10 }).catch((error: unknown) => {
    // 304: already stopped.
    if (engineStatus(error) !== 304) {
      throw error
    }
  })
}

/** The container's last 20 log lines, or none when the engine cannot give them. */
export async function lastLogLines(container: DockerContainer): Promise<string[]> {
  try {
    const buffer = await container.logs({ stdout: true, stderr: true, tail: 20, follow: false })
    return demuxLogs(buffer)
      .trimEnd()
      .split('\n')
      .filter((line) => line.length > 0)
  } catch {
    // The lines only enrich a failure message; a log driver without read support has none.
    return []
  }
}

function ignoreMissing(error: unknown): void {
  if (engineStatus(error) !== 404) {
    throw error
  }
}
