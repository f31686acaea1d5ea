/** The `command` driver: runs the service's shell command for each action; exit 0 is success. */
import { existsSync } from 'node:fs'

import type { Service } from '../../model/index.ts'
import { childEnv } from '../child-env.ts'
import { runChild } from '../child-run.ts'
import type {
  Driver,
  DriverCapabilities,
  DriverContext,
  DriverOutcome,
  RedeployChange,
  ServiceStatus,
} from '../driver.ts'
import { checkCommandTarget, parseCommandTarget } from './command-target.ts'

export interface CommandDriverOptions {
  /** After SIGTERM, how long the command's process group gets before SIGKILL. Default 5 s. */
  killGraceMs?: number
}

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
    const what = `the ${action} command`
    const result = await runChild({
      what,
      command,
      env,
      ...(target.cwd === undefined ? {} : { cwd: target.cwd }),
      timeoutMs: target.timeoutMs,
      signal: ctx.signal,
      aborted: () => `${what} was canceled and killed`,
      killGraceMs: this.#killGraceMs,
      log: ctx.log,
    })
    return result.ok ? { state: 'succeeded' } : { state: 'failed', error: result.error }
  }
}
