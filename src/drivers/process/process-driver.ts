/** The embedded `process` driver: supervises local replicas of a command line, start-first. */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

import { coerceError } from '../../errors.ts'
import type { Service } from '../../model/index.ts'
import type {
  Driver,
  DriverCapabilities,
  DriverContext,
  DriverOutcome,
  RedeployChange,
  ServiceStatus,
} from '../driver.ts'
import { waitHealthy } from './health-check.ts'
import { LogTail, readLastLines } from './log-tail.ts'
import { isSameProcessAlive } from './process-group.ts'
import { checkProcessTarget, parseProcessTarget, type ProcessTarget } from './process-target.ts'
import { readPidRecords, Replica } from './replica.ts'
import {
  DEFAULT_SUPERVISION,
  ServiceSupervisor,
  type SupervisionOptions,
} from './replica-supervisor.ts'

export interface ProcessDriverOptions {
  /** Deckhand's data directory; replicas keep pid, log and state files in `process/<service>/`. */
  dataDir: string
  /** Supervision events (restarts, adoption) that belong to no deployment. */
  log?: (msg: string, fields?: object) => void
  /** Restart backoff and polling; tests shorten them. */
  supervision?: Partial<SupervisionOptions>
}

/** Lines of a failed replica's output quoted in the deployment's error. */
const TAIL_LINES = 20

type Started = { replica: Replica; env: Record<string, string> } | { error: string }

/** What an old replica ran, so a failed stop-first replacement can start exactly that again. */
interface Stopped {
  index: number
  env: Record<string, string>
  target: ProcessTarget
}

export class ProcessDriver implements Driver {
  readonly name = 'process'
  readonly capabilities: DriverCapabilities = Object.freeze({
    canScale: true,
    canChangeTag: false,
    canRollBack: true,
    waitsForHealth: true,
  })
  #dataDir: string
  #log: (msg: string, fields?: object) => void
  #supervision: SupervisionOptions
  #supervisors = new Map<string, ServiceSupervisor>()

  constructor(options: ProcessDriverOptions) {
    this.#dataDir = options.dataDir
    this.#log = options.log ?? (() => {})
    this.#supervision = Object.freeze({ ...DEFAULT_SUPERVISION, ...options.supervision })
  }

  checkTarget(target: Record<string, unknown>): string[] {
    return checkProcessTarget(target)
  }

  /**
   * At start, adopts the replicas a previous Deckhand left and starts the missing ones from the
   * last deployed target. After that, a service change (a PATCH) only updates the row: what runs
   * changes through deployments, which read the row then.
   */
  async attach(service: Service): Promise<void> {
    const isNew = !this.#supervisors.has(service.name)
    const { supervisor, target } = this.#supervisor(service)
    if (isNew) {
      await supervisor.exclusive(() => supervisor.reconcile(desiredReplicas(service, target), true))
    }
  }

  async detach(service: Service): Promise<void> {
    const { supervisor } = this.#supervisor(service)
    await supervisor.exclusive(async () => {
      supervisor.close()
      await supervisor.stopAll()
    })
    if (this.#supervisors.get(service.name) === supervisor) {
      this.#supervisors.delete(service.name)
    }
  }

  async redeploy(
    service: Service,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const { supervisor, target } = await this.#attached(service)
    return supervisor.exclusive(() =>
      target.basePort === undefined
        ? this.#replaceAll(supervisor, service, target, change, ctx)
        : this.#replaceOneByOne(supervisor, service, target, change, ctx),
    )
  }

  async scale(
    service: Service,
    replicas: number,
    _change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const { supervisor } = await this.#attached(service)
    return supervisor.exclusive(async () => {
      const current = supervisor.slots()
      // A slot whose replica crashed and waits for its restart is missing too: a scale to the
      // count the service has is how an operator asks for it now, healthy, with a log.
      const missing = Array.from({ length: replicas }, (_, i) => i).filter((i) => {
        const replica = supervisor.slot(i)?.replica
        return !replica || replica.hasExited
      })
      const held = supervisor.holdMissing(missing)
      // New replicas join the ones running, so they get the target and environment those run.
      const deployed = supervisor.deployedEnv
      const running = supervisor.deployedTarget
      const started = await this.#startHealthyAll(
        supervisor,
        running,
        missing,
        deployed,
        service,
        ctx,
      )
      if ('error' in started) {
        supervisor.release(held)
        return { state: 'failed', error: started.error }
      }
      for (const { replica, env } of started.replicas) {
        supervisor.install(replica, env, running)
      }
      const extra = current.filter((slot) => slot.index >= replicas).reverse()
      for (const slot of extra) {
        ctx.log(`stopping replica ${slot.index}`)
      }
      await Promise.all(extra.map((slot) => supervisor.stopSlot(slot)))
      supervisor.commit()
      return { state: 'succeeded', replicas }
    })
  }

  async inspect(service: Service): Promise<ServiceStatus> {
    const supervisor = this.#supervisors.get(service.name)
    if (!supervisor) {
      // Not attached here: report what the pid files say without taking charge of anything.
      const dir = this.#serviceDir(service.name)
      const live = readPidRecords(dir).filter((r) => isSameProcessAlive(r.pid, r.startTime))
      const desired = service.replicas ?? null
      return {
        replicas: live.length,
        ready: live.length,
        desired,
        image: null,
        healthy: null,
        items: [],
        detail: 'not attached',
      }
    }
    const items = supervisor.statuses()
    const running = items.filter((item) => item.state === 'running').length
    const wanted = service.replicas ?? supervisor.slots().length
    return {
      replicas: running,
      ready: running,
      desired: wanted,
      image: null,
      healthy: running === wanted,
      items,
    }
  }

  async ping(): Promise<void> {
    mkdirSync(join(this.#dataDir, 'process'), { recursive: true, mode: 0o700 })
  }

  async close(): Promise<void> {
    for (const supervisor of this.#supervisors.values()) {
      supervisor.close()
    }
    this.#supervisors.clear()
  }

  /** Start-first: every new replica must be healthy before any old one stops. */
  async #replaceAll(
    supervisor: ServiceSupervisor,
    service: Service,
    target: ProcessTarget,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const count = desiredReplicas(service, target)
    const indexes = Array.from({ length: count }, (_, i) => i)
    // A crash-looping old replica restarts nothing while its replacement starts.
    const held = supervisor.holdMissing(indexes)
    const started = await this.#startHealthyAll(
      supervisor,
      target,
      indexes,
      change.env,
      service,
      ctx,
    )
    if ('error' in started) {
      supervisor.release(held)
      return { state: 'failed', error: `${started.error}\nThe old replicas keep running.` }
    }
    const old = supervisor.slots()
    for (const { replica, env } of started.replicas) {
      supervisor.install(replica, env, target)
    }
    supervisor.commit(change.env, target)
    if (old.length > 0) {
      ctx.log(`all ${count} new replicas are healthy; stopping ${old.length} old ones`)
    }
    await Promise.all(old.map((slot) => supervisor.stopSlot(slot)))
    return { state: 'succeeded', replicas: count }
  }

  /** Stop-first, one replica at a time: with a base port two generations would share a port. */
  async #replaceOneByOne(
    supervisor: ServiceSupervisor,
    service: Service,
    target: ProcessTarget,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    ctx.log(
      `target.basePort is set, so a new replica would collide with the old one on its port: ` +
        `replacing replicas one at a time, stopping each old one first`,
    )
    const count = desiredReplicas(service, target)
    const generation = supervisor.newGeneration()
    const stopped: Stopped[] = []
    // Replicas started where none ran before: a failure stops them, as nothing ran there.
    const added: number[] = []
    for (let index = 0; index < count; index++) {
      const old = supervisor.slot(index)
      if (old) {
        ctx.log(`stopping replica ${index} (generation ${old.generation})`)
        await supervisor.stopSlot(old)
        stopped.push({ index, env: old.env, target: old.target })
      } else {
        added.push(index)
      }
      const env = supervisor.envFor(index, change.env, target)
      const started = await this.#startHealthy(
        supervisor,
        target,
        index,
        generation,
        env,
        service,
        ctx,
        ctx.signal,
      )
      if ('error' in started) {
        for (const slot of added.map((i) => supervisor.slot(i))) {
          if (slot) {
            ctx.log(`stopping replica ${slot.index}: no replica ran there before`)
            await supervisor.stopSlot(slot)
          }
        }
        supervisor.commit()
        const restored = await this.#restore(supervisor, stopped, service, ctx)
        return { state: 'failed', error: `${started.error}\n${restored}` }
      }
      supervisor.install(started.replica, env, target)
      supervisor.commit()
    }
    await Promise.all(
      supervisor
        .slots()
        .filter((s) => s.index >= count)
        .map((s) => supervisor.stopSlot(s)),
    )
    supervisor.commit(change.env, target)
    return { state: 'succeeded', replicas: count }
  }

  /**
   * After a failed one-by-one redeploy, starts the stopped replicas again from the command, target
   * and environment each ran with, never the new target that just failed.
   */
  async #restore(
    supervisor: ServiceSupervisor,
    stopped: Stopped[],
    service: Service,
    ctx: DriverContext,
  ): Promise<string> {
    if (stopped.length === 0) {
      return 'No old replica had been stopped.'
    }
    const indexes = stopped.map((s) => s.index).join(', ')
    ctx.log(`restoring replicas ${indexes} as they ran before`)
    const generation = supervisor.newGeneration()
    const problems: string[] = []
    for (const { index, env, target } of stopped) {
      const current = supervisor.slot(index)
      if (current) {
        await supervisor.stopSlot(current)
      }
      // Restoring must finish even when the deployment was canceled: it is what keeps the service up.
      const never = new AbortController().signal
      const started = await this.#startHealthy(
        supervisor,
        target,
        index,
        generation,
        env,
        service,
        ctx,
        never,
      )
      if ('error' in started) {
        problems.push(started.error)
      } else {
        supervisor.install(started.replica, env, target)
      }
    }
    supervisor.commit()
    return problems.length === 0
      ? `Replicas ${indexes} were restored as they ran before.`
      : `Restoring the previous replicas failed too:\n${problems.join('\n')}`
  }

  /** Starts `indexes` in parallel; on the first failure stops them all and returns its reason. */
  async #startHealthyAll(
    supervisor: ServiceSupervisor,
    target: ProcessTarget,
    indexes: number[],
    deployedEnv: Record<string, string>,
    service: Service,
    ctx: DriverContext,
  ): Promise<
    { replicas: { replica: Replica; env: Record<string, string> }[] } | { error: string }
  > {
    if (indexes.length === 0) {
      return { replicas: [] }
    }
    const generation = supervisor.newGeneration()
    // The first failure ends the others' wait: their outcome no longer matters.
    const giveUp = new AbortController()
    const signal = AbortSignal.any([ctx.signal, giveUp.signal])
    let firstError: string | undefined
    const results = await Promise.all(
      indexes.map(async (index) => {
        const env = supervisor.envFor(index, deployedEnv, target)
        const result = await this.#startHealthy(
          supervisor,
          target,
          index,
          generation,
          env,
          service,
          ctx,
          signal,
        )
        if ('error' in result) {
          firstError ??= result.error
          giveUp.abort()
        }
        return result
      }),
    )
    const healthy = results.filter((r) => 'replica' in r)
    if (firstError !== undefined) {
      await Promise.all(healthy.map((r) => r.replica.stop(target.stopGraceMs)))
      return { error: firstError }
    }
    return { replicas: healthy }
  }

  /** Starts one replica and waits for its health; a failure stops it and quotes its output. */
  async #startHealthy(
    supervisor: ServiceSupervisor,
    target: ProcessTarget,
    index: number,
    generation: number,
    env: Record<string, string>,
    service: Service,
    ctx: DriverContext,
    signal: AbortSignal,
  ): Promise<Started> {
    let replica: Replica
    try {
      replica = supervisor.start(index, generation, env, target)
    } catch (error) {
      return { error: coerceError(error).message }
    }
    const port = replica.port === undefined ? '' : ` on port ${replica.port}`
    ctx.log(`started replica ${index} (generation ${generation}, pid ${replica.pid})${port}`)
    // Each generation has its own log file, so the tail starts at its beginning.
    const tail = new LogTail(replica.logPath, 0, (line) => ctx.log(`[${index}] ${line}`, 'stdout'))
    const timeoutMs = Math.max(
      0,
      Math.min(service.deploy.healthTimeoutMs, ctx.deadline - Date.now()),
    )
    const health = await waitHealthy(replica, target.health, timeoutMs, signal)
    if (health.isHealthy) {
      tail.stop()
      ctx.log(`replica ${index} is healthy after ${(health.afterMs / 1000).toFixed(2)}s`)
      return { replica, env }
    }
    await replica.stop(target.stopGraceMs)
    tail.stop()
    const output = readLastLines(replica.logPath, TAIL_LINES)
    const quoted =
      output.length === 0 ? 'it wrote no output' : `its last output:\n${output.join('\n')}`
    return { error: `${health.reason}; ${quoted}` }
  }

  async #attached(
    service: Service,
  ): Promise<{ supervisor: ServiceSupervisor; target: ProcessTarget }> {
    const isNew = !this.#supervisors.has(service.name)
    const found = this.#supervisor(service)
    if (isNew) {
      // Take charge of what a previous Deckhand left running before replacing it.
      const { supervisor, target } = found
      await supervisor.exclusive(() =>
        supervisor.reconcile(desiredReplicas(service, target), false),
      )
    }
    return found
  }

  #supervisor(service: Service): { supervisor: ServiceSupervisor; target: ProcessTarget } {
    const target = parseProcessTarget(service.target)
    let supervisor = this.#supervisors.get(service.name)
    if (!supervisor) {
      const dir = this.#serviceDir(service.name)
      supervisor = new ServiceSupervisor(service.name, dir, target, this.#supervision, this.#log)
      this.#supervisors.set(service.name, supervisor)
    }
    supervisor.target = target
    return { supervisor, target }
  }

  #serviceDir(name: string): string {
    // Names are checked by the API, but a path must never be steered out of the data directory.
    return join(this.#dataDir, 'process', encodeURIComponent(name))
  }
}

/** The replica count: the one Deckhand last set, else the target's, else one. */
function desiredReplicas(service: Service, target: ProcessTarget): number {
  return service.replicas ?? target.replicas ?? 1
}
