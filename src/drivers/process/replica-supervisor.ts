/** One service's replicas: adoption from pid files, restarts with backoff, and the state file. */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { childEnv } from '../child-env.ts'
import type { ReplicaStatus } from '../driver.ts'
import type { ProcessTarget } from './process-target.ts'
import { describeExit, type ExitInfo, readPidRecords, Replica, replicaFileBase } from './replica.ts'

export interface SupervisionOptions {
  /** First restart delay after a crash; doubles per consecutive crash. Default 1 s. */
  initialBackoffMs: number
  /** Longest restart delay. Default 5 min. */
  maxBackoffMs: number
  /** A replica that ran this long before exiting starts again from the first delay. Default 60 s. */
  resetAfterMs: number
  /** Consecutive crashes after which inspect() says `crashed`. Default 3. */
  crashedAfter: number
  /** How often adopted replicas (not our children) are checked for liveness. Default 1 s. */
  pollMs: number
}

export const DEFAULT_SUPERVISION: SupervisionOptions = {
  initialBackoffMs: 1000,
  maxBackoffMs: 300_000,
  resetAfterMs: 60_000,
  crashedAfter: 3,
  pollMs: 1000,
}

/** A replica position: the replica now filling it and its crash history. */
export interface Slot {
  index: number
  replica: Replica | undefined
  generation: number
  /** The full environment the replica runs with, reused for restarts. */
  env: Record<string, string>
  /** The target of the generation this replica belongs to, reused for restarts and rollbacks. */
  target: ProcessTarget
  restarts: number
  consecutiveCrashes: number
  lastExit: ExitInfo | undefined
  timer: NodeJS.Timeout | undefined
  nextRestartAt: number | undefined
  isRetired: boolean
  /** A deployment is starting this slot's replacement: the slot restarts nothing meanwhile. */
  isHeld: boolean
}

/** What survives a Deckhand restart besides the pid files. */
interface ServiceState {
  /** The environment the last successful redeploy added (change.env), for replicas started later. */
  env: Record<string, string>
  /** The target the last successful redeploy ran, so a later Deckhand restarts what ran. */
  target?: ProcessTarget
  nextGeneration: number
  /** index → generation of the replica that is meant to run there. */
  generations: Record<string, number>
}

export type SupervisorLog = (msg: string, fields?: object) => void

export class ServiceSupervisor {
  readonly name: string
  readonly dir: string
  #target: ProcessTarget
  #options: SupervisionOptions
  #log: SupervisorLog
  #state: ServiceState
  #slots = new Map<number, Slot>()
  #queue: Promise<unknown> = Promise.resolve()
  #isClosed = false

  constructor(
    name: string,
    dir: string,
    target: ProcessTarget,
    options: SupervisionOptions,
    log: SupervisorLog,
  ) {
    this.name = name
    this.dir = dir
    this.#target = target
    this.#options = options
    this.#log = log
    this.#state = readState(dir)
  }

  set target(target: ProcessTarget) {
    this.#target = target
  }

  /** The target the last successful redeploy ran; the service's own target before any. */
  get deployedTarget(): ProcessTarget {
    return this.#state.target ?? this.#target
  }

  /**
   * False after a first start that failed: no deployment ever ran to its end, so there is no
   * target to start missing replicas from (the row's may be a PATCH no deployment ran), and
   * nothing starts before a deployment does. A service never started at all takes its row.
   */
  get canStartMissing(): boolean {
    const { target, generations, nextGeneration } = this.#state
    return target !== undefined || Object.keys(generations).length > 0 || nextGeneration === 1
  }

  /** The environment the last successful redeploy added. */
  get deployedEnv(): Record<string, string> {
    return { ...this.#state.env }
  }

  /** Runs `work` after every earlier call has settled: one change to a service at a time. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work)
    this.#queue = run.catch(() => {})
    return run
  }

  /** The environment of replica `index`: inherited, then target.env, then `deployed`, then PORT. */
  envFor(
    index: number,
    deployed: Record<string, string>,
    target: ProcessTarget = this.#target,
  ): Record<string, string> {
    const env = { ...childEnv(), ...target.env, ...deployed }
    if (target.basePort !== undefined) {
      env.PORT = String(target.basePort + index)
    }
    return env
  }

  newGeneration(): number {
    const generation = this.#state.nextGeneration
    this.#state.nextGeneration += 1
    this.#writeState()
    return generation
  }

  /** Starts a replica that is not supervised yet: it must prove healthy before install(). */
  start(
    index: number,
    generation: number,
    env: Record<string, string>,
    target: ProcessTarget = this.#target,
  ): Replica {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const port = target.basePort === undefined ? undefined : target.basePort + index
    const { command, cwd } = target
    return Replica.spawn({ dir: this.dir, index, generation, command, cwd, env, port })
  }

  /** Makes `replica` the supervised replica at its index; returns the slot it replaced, retired. */
  install(
    replica: Replica,
    env: Record<string, string>,
    target: ProcessTarget = this.#target,
  ): Slot | undefined {
    const previous = this.#slots.get(replica.index)
    if (previous) {
      this.#retire(previous)
    }
    const slot: Slot = {
      index: replica.index,
      replica,
      generation: replica.generation,
      env,
      target,
      restarts: 0,
      consecutiveCrashes: 0,
      lastExit: undefined,
      timer: undefined,
      nextRestartAt: undefined,
      isRetired: false,
      isHeld: false,
    }
    this.#slots.set(replica.index, slot)
    this.#watch(slot, replica)
    return previous
  }

  slot(index: number): Slot | undefined {
    return this.#slots.get(index)
  }

  /** Slots by index, lowest first. */
  slots(): Slot[] {
    return [...this.#slots.values()].sort((a, b) => a.index - b.index)
  }

  /**
   * Cancels the pending restart of the slots at `indexes` whose replica is not running, while a
   * deployment starts their replacements: a restart timer firing during the new replica's
   * health wait would start the old generation beside it, unsupervised once the new one is
   * installed. Returns the slots held; release() gives them back when the replacement failed.
   */
  holdMissing(indexes: number[]): Slot[] {
    const held: Slot[] = []
    for (const index of indexes) {
      const slot = this.#slots.get(index)
      if (slot && !slot.isRetired && (!slot.replica || slot.replica.hasExited)) {
        slot.isHeld = true
        clearTimeout(slot.timer)
        slot.timer = undefined
        slot.nextRestartAt = undefined
        held.push(slot)
      }
    }
    return held
  }

  /** Supervises held slots again after a failed replacement: their restarts go on backing off. */
  release(slots: Slot[]): void {
    for (const slot of slots) {
      slot.isHeld = false
      if (!slot.isRetired && !this.#isClosed && !slot.replica && slot.timer === undefined) {
        this.#armRestart(slot)
      }
    }
  }

  /** Stops the slot's replica for good and forgets the slot unless another took its index. */
  async stopSlot(slot: Slot): Promise<void> {
    this.#retire(slot)
    if (this.#slots.get(slot.index) === slot) {
      this.#slots.delete(slot.index)
    }
    await slot.replica?.stop(slot.target.stopGraceMs)
  }

  /** Records which generation runs where and, after a redeploy, the environment and target it ran. */
  commit(deployedEnv?: Record<string, string>, deployedTarget?: ProcessTarget): void {
    if (deployedEnv) {
      this.#state.env = { ...deployedEnv }
    }
    if (deployedTarget) {
      this.#state.target = deployedTarget
    }
    this.#state.generations = Object.fromEntries(this.slots().map((s) => [s.index, s.generation]))
    this.#writeState()
  }

  /**
   * Adopts the live replicas the state file names, stops any other live ones (left by an
   * interrupted deployment), and, when `startMissing`, starts the replicas that are not running.
   */
  async reconcile(count: number, startMissing: boolean): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const leftovers: Replica[] = []
    for (const record of readPidRecords(this.dir)) {
      if (this.#slots.get(record.index)?.replica?.pid === record.pid) {
        continue
      }
      const replica = Replica.adopt(record, this.dir, this.#options.pollMs)
      if (!replica) {
        rmSync(join(this.dir, `${replicaFileBase(record.index, record.generation)}.pid`), {
          force: true,
        })
      } else if (
        this.#state.generations[record.index] === record.generation &&
        record.index < count &&
        !this.#slots.has(record.index)
      ) {
        const target = this.deployedTarget
        this.install(replica, this.envFor(record.index, this.#state.env, target), target)
        this.#log('adopted a running replica', {
          service: this.name,
          index: record.index,
          pid: record.pid,
        })
      } else {
        leftovers.push(replica)
      }
    }
    await Promise.all(leftovers.map((replica) => replica.stop(this.#target.stopGraceMs)))
    for (const slot of this.slots().filter((s) => s.index >= count)) {
      await this.stopSlot(slot)
    }
    const willStart = startMissing && this.canStartMissing
    for (let index = 0; willStart && index < count; index++) {
      if (!this.#slots.has(index)) {
        const target = this.deployedTarget
        const env = this.envFor(index, this.#state.env, target)
        this.install(this.start(index, this.newGeneration(), env, target), env, target)
      }
    }
    this.commit()
  }

  /** Stops every replica, adopted or leftover, and removes the service's directory. */
  async stopAll(): Promise<void> {
    await Promise.all(this.slots().map((slot) => this.stopSlot(slot)))
    const leftovers = readPidRecords(this.dir).map((r) =>
      Replica.adopt(r, this.dir, this.#options.pollMs),
    )
    await Promise.all(leftovers.map((replica) => replica?.stop(this.#target.stopGraceMs)))
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Stops timers and polling; replicas keep running for the next Deckhand to adopt. */
  close(): void {
    this.#isClosed = true
    for (const slot of this.#slots.values()) {
      clearTimeout(slot.timer)
      slot.replica?.stopWatching()
    }
  }

  /** Per-replica state for inspect(). */
  statuses(): ReplicaStatus[] {
    return this.slots().map((slot) => {
      const id = `${this.name}-${slot.index}`
      const history =
        slot.restarts === 0
          ? ''
          : `; ${slot.restarts} restarts, last ${describeExit(slot.lastExit)}`
      const replica = slot.replica
      if (replica && !replica.hasExited) {
        const port = replica.port === undefined ? '' : `, port ${replica.port}`
        const up = Math.round((Date.now() - replica.startedAtMs) / 1000)
        const detail = `pid ${replica.pid}${port}, up ${up}s${history}`
        return {
          id,
          state: 'running',
          detail,
          restarts: slot.restarts,
          pid: replica.pid,
          ...(replica.port === undefined ? {} : { port: String(replica.port) }),
          startedAt: new Date(replica.startedAtMs).toISOString(),
        }
      }
      if (slot.timer !== undefined && slot.nextRestartAt !== undefined) {
        const crashed = slot.consecutiveCrashes >= this.#options.crashedAfter
        const inSeconds = Math.max(0, Math.round((slot.nextRestartAt - Date.now()) / 1000))
        const detail = `${describeExit(slot.lastExit)}; restart ${slot.restarts} in ${inSeconds}s`
        return { id, state: crashed ? 'crashed' : 'restarting', detail, restarts: slot.restarts }
      }
      return { id, state: 'stopped', detail: describeExit(slot.lastExit), restarts: slot.restarts }
    })
  }

  #retire(slot: Slot): void {
    slot.isRetired = true
    clearTimeout(slot.timer)
    slot.timer = undefined
  }

  #watch(slot: Slot, replica: Replica): void {
    void replica.exited().then((info) => {
      if (slot.replica === replica && !slot.isRetired && !this.#isClosed) {
        replica.forget()
        slot.replica = undefined
        this.#recordCrash(slot, replica.startedAtMs, info)
        if (!slot.isHeld) {
          this.#armRestart(slot)
        }
      }
    })
  }

  #recordCrash(slot: Slot, startedAtMs: number, info: ExitInfo): void {
    if (Date.now() - startedAtMs >= this.#options.resetAfterMs) {
      slot.consecutiveCrashes = 0
    }
    slot.consecutiveCrashes += 1
    slot.restarts += 1
    slot.lastExit = info
  }

  /** Sets the slot's restart timer, its delay doubling with each consecutive crash. */
  #armRestart(slot: Slot): void {
    const { initialBackoffMs, maxBackoffMs } = this.#options
    const crashes = Math.max(1, slot.consecutiveCrashes)
    const delayMs = Math.min(initialBackoffMs * 2 ** (crashes - 1), maxBackoffMs)
    slot.nextRestartAt = Date.now() + delayMs
    slot.timer = setTimeout(() => this.#restart(slot), delayMs)
    slot.timer.unref()
    this.#log(`replica ${describeExit(slot.lastExit)}; restarting in ${delayMs} ms`, {
      service: this.name,
      index: slot.index,
      restarts: slot.restarts,
    })
  }

  #restart(slot: Slot): void {
    slot.timer = undefined
    slot.nextRestartAt = undefined
    if (this.#isClosed || slot.isRetired || slot.isHeld) {
      return
    }
    try {
      const replica = this.start(slot.index, slot.generation, slot.env, slot.target)
      slot.replica = replica
      this.#watch(slot, replica)
    } catch (error) {
      // A start that fails (cwd removed, say) counts as a crash, so backoff still applies.
      this.#log(`replica could not be restarted: ${(error as Error).message}`, {
        service: this.name,
      })
      this.#recordCrash(slot, Date.now(), { code: null, signal: null })
      this.#armRestart(slot)
    }
  }

  #writeState(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const path = join(this.dir, 'state.json')
    writeFileSync(`${path}.tmp`, JSON.stringify(this.#state), { mode: 0o600 })
    renameSync(`${path}.tmp`, path)
  }
}

function readState(dir: string): ServiceState {
  try {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Partial<ServiceState>
    return {
      env: state.env ?? {},
      ...(state.target ? { target: state.target } : {}),
      nextGeneration: state.nextGeneration ?? 1,
      generations: state.generations ?? {},
    }
  } catch {
    return { env: {}, nextGeneration: 1, generations: {} }
  }
}
