/** Follows a Swarm service after an update: its UpdateStatus and its tasks, until it settles. */
import { setTimeout as delay } from 'node:timers/promises'

import type { DockerClient, SwarmServiceInspect, SwarmTask } from '../docker/docker-client.ts'
import { toFilters } from '../docker/docker-client.ts'
import type { DriverContext, DriverOutcome } from '../driver.ts'

// Swarm's dispatcher reports task states about once a second; 200 ms polls see every step.
const POLL_MS = 200

/** Logs each task's state changes as they happen, and keeps the last task error seen. */
export class TaskWatcher {
  readonly #client: DockerClient
  readonly #service: string
  readonly #ctx: DriverContext
  readonly #seen = new Map<string, string>()
  /** The newest error a task reported, for failure messages. */
  lastError: string | null = null

  constructor(client: DockerClient, service: string, ctx: DriverContext) {
    this.#client = client
    this.#service = service
    this.#ctx = ctx
  }

  /** Lists the service's tasks once, logging what changed since the previous poll. */
  async poll(): Promise<SwarmTask[]> {
    const tasks = await this.#client.listTasks({ filters: toFilters({ service: [this.#service] }) })
    for (const task of tasks) {
      const state = `${task.Status.State}${task.Status.Err ? ` (${task.Status.Err})` : ''}`
      const before = this.#seen.get(task.ID)
      if (before === state) {
        continue
      }
      this.#seen.set(task.ID, state)
      const name = `${this.#service}.${task.Slot ?? task.NodeID?.slice(0, 12) ?? '?'}`
      const image = task.Spec?.ContainerSpec?.Image?.split('@')[0] ?? '?'
      this.#ctx.log(
        before === undefined
          ? `task ${name} (${task.ID.slice(0, 12)}, ${image}) is ${state}, desired ${task.DesiredState}`
          : `task ${name} (${task.ID.slice(0, 12)}) ${before} → ${state}`,
      )
      const failed = task.Status.State === 'failed' || task.Status.State === 'rejected'
      if (task.Status.Err || failed) {
        this.lastError = `task ${name}: ${task.Status.Err ?? task.Status.Message ?? task.Status.State}`
      }
    }
    return tasks
  }
}

/** Tasks that should run and do. */
export function runningTasks(tasks: SwarmTask[]): SwarmTask[] {
  return tasks.filter((task) => task.DesiredState === 'running' && task.Status.State === 'running')
}

/** Tasks told to stop whose containers still run. */
export function stoppingTasks(tasks: SwarmTask[]): SwarmTask[] {
  return tasks.filter((task) => task.DesiredState !== 'running' && task.Status.State === 'running')
}

const ROLLBACK_SETTLE_MS = 30_000

/**
 * Waits until the update that began after `previousStartedAt` completes, pauses or is rolled
 * back, and reports exactly that.
 */
export async function followUpdate(
  client: DockerClient,
  serviceId: string,
  previousStartedAt: string | undefined,
  watcher: TaskWatcher,
  ctx: DriverContext,
): Promise<DriverOutcome> {
  let rollbackReason: string | null = null
  let rolledBackAt: number | undefined
  let lastState = ''
  for (;;) {
    const tasks = await watcher.poll()
    const current: SwarmServiceInspect = await client.getService(serviceId).inspect()
    const status = current.UpdateStatus
    // Until the orchestrator picks the new spec up, UpdateStatus still describes the last update.
    const isOurs = status?.State !== undefined && status.StartedAt !== previousStartedAt
    if (isOurs && status.State !== lastState) {
      lastState = status.State ?? ''
      ctx.log(`Swarm update state: ${lastState}${status.Message ? ` (${status.Message})` : ''}`)
    }
    const detail = watcher.lastError ? `; last task error: ${watcher.lastError}` : ''
    if (isOurs) {
      switch (status.State) {
        case 'completed': {
          // Swarm calls the update complete once the new tasks run; old ones may still be
          // stopping (start-first), and "converged" means they are gone too.
          if (stoppingTasks(tasks).length === 0) {
            return { state: 'succeeded', replicas: runningTasks(tasks).length }
          }
          break
        }
        case 'paused':
          return {
            state: 'failed',
            error: `the update was paused by Swarm: ${status.Message ?? 'no message'}${detail}`,
          }
        case 'rollback_started':
          rollbackReason ??= status.Message ?? null
          break
        case 'rollback_completed': {
          // Swarm calls the rollback complete as it schedules the old spec's tasks; report once
          // they run again (or after ROLLBACK_SETTLE_MS), so "failed" means "old ones serve".
          rolledBackAt ??= Date.now()
          const restored = tasks.filter((task) => task.DesiredState === 'running')
          const settled =
            restored.length > 0 && restored.every((task) => task.Status.State === 'running')
          if (settled || Date.now() - rolledBackAt > ROLLBACK_SETTLE_MS) {
            const note = settled ? '' : '; the old tasks were not all running yet'
            return {
              state: 'failed',
              error: `the update was rolled back by Swarm: ${rollbackReason ?? status.Message ?? 'no message'}${detail}${note}`,
            }
          }
          break
        }
        case 'rollback_paused':
          return {
            state: 'failed',
            error: `the rollback was paused by Swarm: ${status.Message ?? 'no message'}${detail}`,
          }
      }
    }
    if (ctx.signal.aborted) {
      return {
        state: 'failed',
        error: `canceled while Swarm was updating (state ${lastState || 'pending'}); Swarm carries on with the update by itself`,
      }
    }
    await delay(POLL_MS, undefined, { signal: ctx.signal }).catch(() => undefined)
  }
}

/** Waits until exactly `replicas` tasks run and no others are still meant to run. */
export async function followScale(
  replicas: number,
  timeoutMs: number,
  watcher: TaskWatcher,
  ctx: DriverContext,
): Promise<DriverOutcome> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const tasks = await watcher.poll()
    const running = runningTasks(tasks).length
    const wanted = tasks.filter((task) => task.DesiredState === 'running').length
    const stopping = stoppingTasks(tasks).length
    if (running === replicas && wanted === replicas && stopping === 0) {
      return { state: 'succeeded', replicas }
    }
    if (ctx.signal.aborted) {
      return { state: 'failed', error: `canceled with ${running} of ${replicas} tasks running` }
    }
    if (Date.now() >= deadline) {
      const detail = watcher.lastError ? `; last task error: ${watcher.lastError}` : ''
      return {
        state: 'failed',
        error: `Swarm did not converge to ${replicas} running tasks within ${timeoutMs} ms: ${running} running, ${stopping} still stopping${detail}`,
      }
    }
    await delay(POLL_MS, undefined, { signal: ctx.signal }).catch(() => undefined)
  }
}
