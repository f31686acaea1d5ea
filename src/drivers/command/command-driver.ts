/** The `command` driver: runs the service's shell command for each action; exit 0 is success. */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'

import { formatDuration } from '../../model/duration.ts'
import type { Service } from '../../model/index.ts'
import { childEnv } from '../child-env.ts'
import type {
  Driver,
  DriverCapabilities,
  DriverContext,
  DriverOutcome,
  RedeployChange,
  ServiceStatus,
} from '../driver.ts'
import { hasLiveGroupMembers, killGroup } from '../process/process-group.ts'
import { checkCommandTarget, parseCommandTarget } from './command-target.ts'

export interface CommandDriverOptions {
  /** After SIGTERM, how long the command's process group gets before SIGKILL. Default 5 s. */
  killGraceMs?: number
}

/** Lines of output quoted in a failed deployment's error. */
const TAIL_LINES = 20
/**
 * After the shell exits, how long its output pipes may stay open. A command that leaves a
 * background process holding them (`server &`) must not keep the deployment running.
 */
const DRAIN_MS = 500

type Ending = { code: number | null; signal: NodeJS.Signals | null }

export class CommandDriver implements Driver {
  readonly name = 'command'
  readonly capabilities: DriverCapabilities = Object.freeze({
    canScale: true,
    // The command is what deploys: it receives the tag as DECKHAND_IMAGE_TAG and runs it.
    canChangeTag: true,
    canRollBack: false,
    waitsForHealth: false,
  })
  #killGraceMs: number

  constructor(options: CommandDriverOptions = {}) {
    this.#killGraceMs = options.killGraceMs ?? 5000
  }

  checkTarget(target: Record<string, unknown>): string[] {
    return checkCommandTarget(target)
  }

  redeploy(service: Service, change: RedeployChange, ctx: DriverContext): Promise<DriverOutcome> {
    const target = parseCommandTarget(service.target)
    if (target.redeploy === undefined) {
      return Promise.resolve({
        state: 'failed',
        error: `service ${service.name} has no target.redeploy command; add one to redeploy it`,
      })
    }
    return this.#run('redeploy', target.redeploy, service, service.replicas, change, ctx)
  }

  async scale(
    service: Service,
    replicas: number,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const target = parseCommandTarget(service.target)
    if (target.scale === undefined) {
      return {
        state: 'failed',
        error: `service ${service.name} has no target.scale command, so it cannot be scaled; add one that reads DECKHAND_REPLICAS`,
      }
    }
    const outcome = await this.#run('scale', target.scale, service, replicas, change, ctx)
    return outcome.state === 'succeeded' ? { state: 'succeeded', replicas } : outcome
  }

  async inspect(service: Service): Promise<ServiceStatus> {
    return {
      replicas: null,
      ready: null,
      desired: null,
      image: null,
      healthy: null,
      items: [],
      detail: `the command driver cannot see what runs; ${service.name}'s commands act on it`,
    }
  }

  async attach(): Promise<void> {}

  async detach(): Promise<void> {}

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  async #run(
    action: 'redeploy' | 'scale',
    command: string,
    service: Service,
    replicas: number | null,
    change: RedeployChange,
    ctx: DriverContext,
  ): Promise<DriverOutcome> {
    const target = parseCommandTarget(service.target)
    if (target.cwd !== undefined && !existsSync(target.cwd)) {
      return {
        state: 'failed',
        error: `target.cwd ${target.cwd} does not exist; create it or fix the target`,
      }
    }
    const env: Record<string, string> = {
      ...childEnv(),
      ...change.env,
      DECKHAND_ACTION: action,
      DECKHAND_SERVICE: service.name,
    }
    if (replicas !== null) {
      env.DECKHAND_REPLICAS = String(replicas)
    }
    ctx.log(`running the ${action} command of ${service.name}`)
    // Its own process group, so a timeout or cancel kills what the script started too.
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: target.cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const lastLines: string[] = []
    const pipes = (['stdout', 'stderr'] as const).map((stream) => {
      const lines = createInterface({ input: child[stream], crlfDelay: Infinity })
      lines.on('line', (line) => {
        lastLines.push(line)
        if (lastLines.length > TAIL_LINES) {
          lastLines.shift()
        }
        ctx.log(line, stream)
      })
      return new Promise<void>((resolve) => lines.once('close', resolve))
    })
    const ended = new Promise<Ending | Error>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }))
      child.once('error', resolve)
    })
    const stop = new AbortController()
    const stopped = AbortSignal.any([ctx.signal, stop.signal])
    const timedOut = delay(target.timeoutMs, 'timeout' as const, { signal: stopped }).catch(
      () => 'aborted' as const,
    )
    const first = await Promise.race([ended, timedOut])
    stop.abort()
    let reason: string | undefined
    if (first === 'timeout' || first === 'aborted') {
      reason =
        first === 'timeout'
          ? `the ${action} command did not finish within ${formatDuration(target.timeoutMs)} and was killed`
          : `the ${action} command was canceled and killed`
      ctx.log(reason)
      await this.#killAll(child.pid, ended)
    }
    const ending = await ended
    await Promise.race([Promise.all(pipes), delay(DRAIN_MS)])
    child.stdout.destroy()
    child.stderr.destroy()
    if (ending instanceof Error) {
      return { state: 'failed', error: `the ${action} command could not start: ${ending.message}` }
    }
    if (reason === undefined && ending.code === 0) {
      return { state: 'succeeded' }
    }
    reason ??=
      ending.signal === null
        ? `the ${action} command exited with code ${ending.code}`
        : `the ${action} command was killed by ${ending.signal}`
    const output =
      lastLines.length === 0 ? 'it wrote no output' : `its last output:\n${lastLines.join('\n')}`
    return { state: 'failed', error: `${reason}; ${output}` }
  }

  /** SIGTERM to the whole group, SIGKILL to what is left after the grace period. */
  async #killAll(pid: number | undefined, ended: Promise<unknown>): Promise<void> {
    if (pid === undefined) {
      return
    }
    killGroup(pid, 'SIGTERM')
    let hasEnded = false
    void ended.then(() => (hasEnded = true))
    // The shell may exit at once while what it started is still shutting down, or trap SIGTERM.
    const deadline = Date.now() + this.#killGraceMs
    while ((!hasEnded || hasLiveGroupMembers(pid)) && Date.now() < deadline) {
      await delay(50)
    }
    if (!hasEnded || hasLiveGroupMembers(pid)) {
      killGroup(pid, 'SIGKILL')
    }
  }
}
