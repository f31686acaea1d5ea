/**
 * The worker: claims queued deployments, runs each on its service's driver under a lease,
 * streams its log, and records the outcome. Different services run concurrently up to
 * `concurrency`; the store guarantees one running deployment per service.
 */
import { setTimeout as delay } from 'node:timers/promises'

import type { Logger } from 'pino'

import type { DriverContext, DriverOutcome, GitBuild, ResolvedImage } from '../drivers/driver.ts'
import type { DriverRegistry } from '../drivers/driver-registry.ts'
import { failureHeadline } from '../drivers/failure-headline.ts'
import { GuardedDriver } from '../drivers/guarded-driver.ts'
import type { EventBus } from '../events.ts'
import { formatDuration } from '../model/duration.ts'
import type { DeployHook, Deployment, DeploymentState, Service } from '../model/index.ts'
import { redactSecrets } from '../model/secret-redactor.ts'
import type { HoldsStore } from '../store/holds-store.ts'
import type { CatalogueStore, DeploymentOutcome, LogStore, QueueStore } from '../store/store.ts'
import { hookEnv, runDeployHook } from './deploy-hook.ts'
import { redeployChange } from './deployment-env.ts'
import { LogBuffer } from './log-buffer.ts'
import { planScaleRun } from './scale-base.ts'
import { deployedOf, triedChange } from './tried-change.ts'

/** The wait before the first retry when a service sets deploy.retries but no retryBackoff. */
const DEFAULT_RETRY_BACKOFF_MS = 5000

export interface WorkerOptions {
  /** The queue it drains, the log it writes, and the service each deployment is for. */
  store: QueueStore & LogStore & Pick<CatalogueStore, 'getService'> & Pick<HoldsStore, 'setFreeze'>
  drivers: DriverRegistry
  events: EventBus
  logger: Logger
  /** Who holds the leases: unique per process. */
  owner: string
  concurrency?: number
  leaseMs?: number
  /** How long one deployment may run before it is failed. */
  deadlineMs?: number
  /** How often to look for work when no local event says there is some (other instances). */
  pollMs?: number
}

export class DeploymentWorker {
  #o: Required<WorkerOptions>
  #active = new Map<string, { controller: AbortController; done: Promise<void> }>()
  #stopping = false
  #wake: (() => void) | undefined
  #loop: Promise<void> | undefined
  #unsubscribe: () => void = () => {}

  constructor(options: WorkerOptions) {
    this.#o = { concurrency: 4, leaseMs: 30_000, deadlineMs: 30 * 60_000, pollMs: 1000, ...options }
  }

  start(): void {
    this.#unsubscribe = this.#o.events.on('deployment:queued', () => this.#wake?.())
    this.#loop = this.#run()
  }

  /** Cancels a deployment this worker runs; false when it runs elsewhere (the lease tells it). */
  cancel(id: string): boolean {
    const running = this.#active.get(id)
    running?.controller.abort(new Error('canceled by an operator'))
    return running !== undefined
  }

  /**
   * Stops claiming, gives running deployments `graceMs` to finish, then aborts them; they
   * end as failed "interrupted" so the next start does not guess.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true
    this.#unsubscribe()
    this.#wake?.()
    await this.#loop
    const all = Promise.all([...this.#active.values()].map((a) => a.done))
    const timer = setTimeout(() => {
      for (const running of this.#active.values()) {
        running.controller.abort(new Error('interrupted: Deckhand is shutting down'))
      }
    }, graceMs)
    await all
    clearTimeout(timer)
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let claimed: Deployment | undefined
      if (this.#active.size < this.#o.concurrency) {
        try {
          claimed = await this.#o.store.claimNext(this.#o.owner, this.#o.leaseMs)
        } catch (error) {
          this.#o.logger.error(
            { err: error, code: 'DH_ERR_STORE_UNAVAILABLE' },
            'worker could not claim a deployment',
          )
        }
      }
      if (claimed) {
        this.#startDeployment(claimed)
        continue
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.pollMs)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#wake = undefined
    }
  }

  #startDeployment(deployment: Deployment): void {
    const controller = new AbortController()
    const done = this.#execute(deployment, controller)
      .catch((error: unknown) => {
        this.#o.logger.error(
          { err: error, deployment: deployment.id, code: 'DH_ERR_INTERNAL' },
          'worker failed to finish a deployment',
        )
      })
      .finally(() => {
        this.#active.delete(deployment.id)
        this.#wake?.()
      })
    this.#active.set(deployment.id, { controller, done })
  }

  async #execute(deployment: Deployment, controller: AbortController): Promise<void> {
    const { store, events, owner, leaseMs } = this.#o
    const log = new LogBuffer(store, events, deployment.id, this.#o.logger)
    const service = await store.getService(deployment.service)
    if (service) {
      events.emit('deployment:started', {
        deployment: { ...deployment, state: 'running' },
        service,
      })
    }
    // The after hook runs under a controller of its own (the deployment's may be aborted
    // already); a cancel, a lost lease or shutdown then stops the hook instead.
    const current = (): AbortController => this.#active.get(deployment.id)?.controller ?? controller
    const renew = setInterval(
      () => {
        store
          .renewLease(deployment.id, owner, leaseMs)
          .then((lease) => {
            if (!lease.held) {
              current().abort(new Error('lease lost: another instance took this deployment over'))
            } else if (lease.cancelRequested) {
              current().abort(new Error('canceled by an operator'))
            }
          })
          .catch((error: unknown) =>
            this.#o.logger.warn({ err: error, deployment: deployment.id }, 'lease renewal failed'),
          )
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    )
    let outcome: DeploymentOutcome
    try {
      outcome = service
        ? await this.#perform(service, deployment, controller, log)
        : { state: 'failed', error: `service ${deployment.service} no longer exists` }
      if (controller.signal.aborted && outcome.state !== 'succeeded') {
        const reason = String((controller.signal.reason as Error | undefined)?.message ?? 'aborted')
        outcome = reason.startsWith('canceled')
          ? { state: 'canceled', error: reason }
          : { state: 'failed', error: reason }
      }
      if (outcome.state !== 'succeeded') {
        const tried = service && triedChange(service, deployment)
        outcome = { ...outcome, error: redactSecrets(outcome.error), ...(tried ? { tried } : {}) }
      }
      log.write(
        outcome.state === 'succeeded'
          ? 'deployment succeeded'
          : `deployment ${outcome.state}: ${failureHeadline(outcome.error)}`,
      )
      if (service?.deploy.after) {
        await this.#runAfterHook(service, deployment, outcome.state, service.deploy.after, log)
      }
      if (service && outcome.state === 'failed' && rolledBack(service, deployment)) {
        await this.#freezeAfterRollback(service, deployment, outcome.error, log)
      }
    } finally {
      clearInterval(renew)
    }
    await log.close()
    const finished = await store.finishDeployment(deployment.id, owner, outcome)
    if (!finished) {
      this.#o.logger.warn(
        { deployment: deployment.id },
        'deployment was no longer ours when it finished; outcome not recorded',
      )
      return
    }
    const final = await store.getDeployment(deployment.id)
    if (final) {
      events.emit('deployment:finished', {
        deployment: final,
        service: await store.getService(deployment.service),
      })
    }
  }

  /**
   * deploy.freezeOnRollback: a redeploy that failed, its service left on (or rolled back to)
   * what ran, freezes the service with the reason, so that no call deploys the same change
   * again until someone looks.
   */
  async #freezeAfterRollback(
    service: Service,
    deployment: Deployment,
    error: string,
    log: LogBuffer,
  ): Promise<void> {
    const message = `deployment ${deployment.id} failed; what ran before runs on: ${failureHeadline(error)}`
    const at = new Date().toISOString()
    await this.#o.store.setFreeze(service.name, { until: null, message, by: 'deckhand', at })
    log.write(
      `${service.name} is frozen (deploy.freezeOnRollback): new deployments are held until ` +
        `\`deckhand service unfreeze ${service.name}\``,
    )
  }

  async #perform(
    service: Service,
    deployment: Deployment,
    controller: AbortController,
    log: LogBuffer,
  ): Promise<DeploymentOutcome> {
    const inner = this.#o.drivers.get(service.driver)
    if (!inner) {
      return { state: 'failed', error: `driver ${service.driver} is not enabled on this server` }
    }
    const driver = new GuardedDriver(inner)
    const ctx: DriverContext = {
      signal: controller.signal,
      deadline: Date.now() + this.#o.deadlineMs,
      deploymentId: deployment.id,
      log: (line, stream) => log.write(line, stream),
    }
    const before = service.deploy.before
    if (before) {
      const env = hookEnv(service, deployment)
      const write = (line: string, stream?: 'stdout' | 'stderr') => log.write(line, stream)
      const { signal } = controller
      const ran = await runDeployHook({ name: 'before', hook: before, env, signal, log: write })
      if (!ran.ok) {
        return { state: 'failed', error: ran.error }
      }
    }
    const build = deployment.action === 'scale' ? undefined : gitBuild(service, deployment, log)
    const change = redeployChange(service, deployment, build)
    if (deployment.input.bodyTooLarge) {
      log.write('the call body was larger than 64 KiB, so DECKHAND_TRIGGER_BODY was not passed')
    }
    let result: DriverOutcome
    if (deployment.action === 'scale') {
      const observed = await inner.inspect(service).catch((error: unknown) => {
        // Without a count Deckhand set, the runtime's is the base: it must be seen.
        if (service.replicas === null) {
          throw error
        }
        return undefined
      })
      const run = planScaleRun(service, deployment.params, observed)
      const { from: current, to: replicas, ready } = run
      if (run.stepLine !== undefined) {
        log.write(run.stepLine)
      }
      // At an unchanged count the runtime decides: a replica crashed or removed by hand is
      // started again rather than the row believed.
      if (replicas === current && (ready ?? current) === current) {
        log.write(`service ${service.name} already runs ${current} replicas; nothing to change`)
        return { state: 'succeeded', replicas: current }
      }
      log.write(
        replicas === current
          ? `service ${service.name} runs ${ready} replicas where ${current} should; converging on ${service.driver}`
          : `scaling ${service.name} from ${current} to ${replicas} replicas on ${service.driver}`,
      )
      result = await this.#withRetries(service, controller.signal, log, () =>
        driver.scale(service, replicas, change, ctx),
      )
      return result.state === 'succeeded'
        ? { state: 'succeeded', replicas: result.replicas ?? replicas }
        : result
    }
    const tagText = change.tag === undefined ? '' : ` to tag ${change.tag}`
    log.write(
      `${deployment.action === 'rollback' ? 'rolling back' : 'redeploying'} ${service.name}${tagText} on ${service.driver}`,
    )
    let resolved: ResolvedImage | null = null
    let skipped: DeploymentOutcome | undefined
    // Resolving is part of each attempt: an engine or registry away for a moment is retried
    // as deploy.retries says, like the redeploy itself.
    result = await this.#withRetries(service, controller.signal, log, async () => {
      if (!build && inner.resolveImage) {
        // A rollback names the digest it goes back to; a redeploy asks what its tag names now.
        change.digest = deployment.params.digest
        try {
          resolved = await inner.resolveImage(service, change, ctx)
        } catch (error) {
          return { state: 'failed', error: (error as Error).message }
        }
        change.digest = resolved?.digest ?? undefined
        if (resolved?.digest && (await this.#alreadyRunning(service, deployment, resolved))) {
          log.write(
            `already running ${resolved.digest} (${resolved.image}); deploy.skipUnchanged is set, so nothing was changed`,
          )
          skipped = {
            state: 'succeeded',
            ...(change.tag === undefined ? {} : { tag: change.tag }),
            ...resolved,
          }
          return skipped
        }
      }
      return driver.redeploy(service, change, ctx)
    })
    if (skipped) {
      return skipped
    }
    if (result.state !== 'succeeded') {
      return result
    }
    // A git build runs the tag the driver made from the commit; the call named none.
    const tag = build && result.tag ? result.tag : change.tag
    const ran = resolved as ResolvedImage | null
    return {
      state: 'succeeded',
      deployed: deployedOf(service),
      ...(tag === undefined ? {} : { tag }),
      ...(result.replicas === undefined ? {} : { replicas: result.replicas }),
      ...(ran ? { image: ran.image, digest: ran.digest } : {}),
    }
  }

  /**
   * deploy.skipUnchanged: a redeploy whose digest is the one the last succeeded deployment
   * ran. Rollbacks always run; a service not deployed by Deckhand yet has nothing to compare.
   */
  async #alreadyRunning(
    service: Service,
    deployment: Deployment,
    resolved: ResolvedImage,
  ): Promise<boolean> {
    if (!service.deploy.skipUnchanged || deployment.action !== 'redeploy') {
      return false
    }
    const last = await this.#o.store.lastSucceededBefore(service.name, deployment.id)
    return last !== undefined && last.digest === resolved.digest && last.image === resolved.image
  }

  /**
   * The deploy.after hook, once the outcome is fixed: it is logged, and whatever the hook does
   * (fail, time out, be canceled) the deployment keeps the state it ended in.
   */
  async #runAfterHook(
    service: Service,
    deployment: Deployment,
    state: DeploymentState,
    hook: DeployHook,
    log: LogBuffer,
  ): Promise<void> {
    const controller = new AbortController()
    const active = this.#active.get(deployment.id)
    if (active) {
      active.controller = controller
    }
    const env = hookEnv(service, deployment, state)
    const write = (line: string, stream?: 'stdout' | 'stderr') => log.write(line, stream)
    const { signal } = controller
    const ran = await runDeployHook({ name: 'after', hook, env, signal, log: write })
    if (!ran.ok) {
      log.write(`${ran.reason}; the deployment stays ${state}`)
    }
  }

  /**
   * Runs `attempt` again after a failure while the service's deploy.retries allow, waiting
   * deploy.retryBackoff, then twice that, and so on; a cancel or shutdown ends the wait at once.
   */
  async #withRetries(
    service: Service,
    signal: AbortSignal,
    log: LogBuffer,
    attempt: () => Promise<DriverOutcome>,
  ): Promise<DriverOutcome> {
    const retries = service.deploy.retries ?? 0
    let backoffMs = service.deploy.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS
    let result = await attempt()
    for (let retry = 1; result.state === 'failed' && retry <= retries && !signal.aborted; retry++) {
      log.write(
        `retry ${retry} of ${retries} in ${formatDuration(backoffMs)} (deploy.retries), after: ${result.error.split('\n')[0]}`,
      )
      const waited = await delay(backoffMs, true, { signal }).catch(() => false)
      if (!waited) {
        break
      }
      result = await attempt()
      backoffMs *= 2
    }
    return result
  }
}

/**
 * The error's first sentence, for the log's last line: the output an error quotes was streamed into
 * the log as it was written, so the log does not repeat it; the deployment's `error` keeps it all.
 */
/** What to build when the service has git.build and the call named a commit (PRODUCT.md section 3). */
function gitBuild(service: Service, deployment: Deployment, log: LogBuffer): GitBuild | undefined {
  const build = service.git?.build
  if (!service.git || !build) {
    return undefined
  }
  const commit = deployment.input.gitCommit
  if (!commit) {
    log.write(
      `service ${service.name} has git.build but the call named no commit; redeploying without building`,
    )
    return undefined
  }
  if (service.driver !== 'docker') {
    log.write(
      `the ${service.driver} driver does not build images; git.build is for docker services, so nothing is built`,
    )
    return undefined
  }
  return {
    repo: service.git.url ?? service.git.repo,
    commit,
    context: build.context ?? '.',
    dockerfile: build.dockerfile ?? 'Dockerfile',
  }
}

/** Whether a failed deployment is one deploy.freezeOnRollback freezes after. */
function rolledBack(service: Service, deployment: Deployment): boolean {
  return (
    service.deploy.freezeOnRollback === true &&
    service.deploy.rollback &&
    deployment.action === 'redeploy'
  )
}
