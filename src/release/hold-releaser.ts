/**
 * The release timer: moves `held` deployments to `queued` once nothing holds them any more (a
 * window opened, a freeze ended or was lifted) and wakes the worker; records a new until when
 * something else still holds one (a freeze lifted outside the windows). It wakes at the
 * earliest until it knows of, at most every `maxWaitMs` (a freeze set or lifted on another
 * instance, a clock that jumped), and at once when `check()` is called. Safe with several
 * instances: the move is conditional on the state, so one instance wins each deployment.
 */
import type { Logger } from 'pino'

import type { EventBus } from '../events.ts'
import type { Deployment, Service } from '../model/index.ts'
import type { Store } from '../store/store.ts'
import { holdFor } from './hold.ts'

/** Held deployments looked at per check: one per service and action, so this many services. */
const HELD_PER_CHECK = 1000
const DEFAULT_MAX_WAIT_MS = 60_000

export interface HoldReleaserOptions {
  store: Store
  events: EventBus
  logger: Logger
  /** Now, in ms; Date.now when absent (tests move their own). */
  clock?: () => number
  /** The longest the timer sleeps between checks. */
  maxWaitMs?: number
}

export class HoldReleaser {
  #store: Store
  #events: EventBus
  #logger: Logger
  #clock: () => number
  #maxWaitMs: number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #again = false
  #stopped = true

  constructor(options: HoldReleaserOptions) {
    this.#store = options.store
    this.#events = options.events
    this.#logger = options.logger
    this.#clock = options.clock ?? Date.now
    this.#maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS
  }

  start(): void {
    this.#stopped = false
    void this.check()
  }

  /** Stops the timer and waits for a check under way. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  /** Looks at every held deployment now; a call during a check runs one more after it. */
  check(): Promise<void> {
    if (this.#running) {
      this.#again = true
      return this.#running
    }
    clearTimeout(this.#timer)
    this.#running = this.#checkOnce()
      .catch((error: unknown) => {
        this.#logger.error(
          { err: error, code: 'DH_ERR_STORE_UNAVAILABLE' },
          'releasing held deployments failed; the timer tries again',
        )
        return this.#maxWaitMs
      })
      .then((waitMs) => {
        this.#running = undefined
        if (this.#again) {
          this.#again = false
          void this.check()
        } else if (!this.#stopped) {
          this.#timer = setTimeout(() => void this.check(), waitMs)
        }
      })
    return this.#running
  }

  /** One pass; answers how long to sleep until the earliest known until. */
  async #checkOnce(): Promise<number> {
    const services = new Map<string, Service | undefined>()
    let waitMs = this.#maxWaitMs
    for (const deployment of await this.#store.listHeld(HELD_PER_CHECK)) {
      if (!services.has(deployment.service)) {
        services.set(deployment.service, await this.#store.getService(deployment.service))
      }
      const service = services.get(deployment.service)
      if (!service) {
        continue
      }
      const now = this.#clock()
      const hold = holdFor(service, now)
      if (!hold) {
        await this.#release(deployment)
        continue
      }
      if (hold.until !== deployment.hold?.until || hold.reason !== deployment.hold?.reason) {
        await this.#store.holdDeployment(deployment.id, hold)
      }
      if (hold.until !== null) {
        waitMs = Math.min(waitMs, Math.max(0, Date.parse(hold.until) - now))
      }
    }
    return waitMs
  }

  async #release(held: Deployment): Promise<void> {
    const deployment = await this.#store.releaseDeployment(held.id, ['held'])
    if (!deployment) {
      return // Canceled, started by an admin, or released by another instance first.
    }
    this.#logger.info(
      { deployment: deployment.id, service: deployment.service, was: held.hold?.reason },
      `released held deployment ${deployment.id} of ${deployment.service}`,
    )
    this.#events.emit('deployment:queued', { deployment })
  }
}
