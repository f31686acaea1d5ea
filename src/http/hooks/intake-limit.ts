/**
 * The bound on trigger calls in flight: admitted and not yet answered by the acceptor (which
 * answers once the call's group has committed and been flushed). A call over the bound is
 * answered 503 at once and never reaches the acceptor, so it records and queues nothing.
 *
 * Why the bound is budget × completion rate, not a fixed number: every admitted call waits for
 * its group's commit, and the calls admitted behind it wait for theirs. By Little's law the
 * calls in flight are the rate at which calls complete times the latency each one sees; so
 * keeping that latency within LATENCY_BUDGET_MS means admitting at most budget × rate. The rate
 * is what the group commits really get through (calls per group ÷ commit latency), measured
 * here over short windows, so the bound follows the disk and the CPU: a fast flush admits more,
 * a slow one fewer, a stalled one (nothing completes) only the floor. At 512 connections with no
 * bound every caller waited seconds (bench/README.md); a fixed number fitted to one machine
 * would refuse calls a faster disk could take, or let a slower one queue for seconds again.
 *
 * The floor keeps a quiet server, whose measured rate is low only because few calls come, from
 * refusing a burst: that many calls are always admitted, and the rate they complete at raises
 * the bound within a window. The ceiling bounds memory, as each call in flight holds its body.
 */

/** The latency an admitted call should see at most, on average, before its answer. */
export const LATENCY_BUDGET_MS = 20
/**
 * Calls always admitted, whatever the measured rate: a burst of 200 concurrent deliveries (a
 * monorepo push fanned out by CI, the burst bench) is recorded whole, never shed; at 64 a
 * PostgreSQL store not yet measured shed most of such a burst.
 */
export const FLOOR = 256
/** At most this many calls in flight, each holding its body (up to DECKHAND_MAX_BODY_BYTES). */
export const CEILING = 1024
/** Completions are counted over windows this long; shorter ones count too few to mean much. */
const WINDOW_MS = 100
/** Seconds a shed caller is told to wait: the bound is measured again long before that. */
export const RETRY_AFTER_SECONDS = 1

export interface IntakeLimitOptions {
  /** Milliseconds from a fixed point; performance.now by default (tests drive their own). */
  now?: () => number
}

export class IntakeLimit {
  readonly #now: () => number
  #inFlight = 0
  #limit = FLOOR
  #windowStart: number
  #completed = 0

  constructor(options: IntakeLimitOptions = {}) {
    this.#now = options.now ?? (() => performance.now())
    this.#windowStart = this.#now()
  }

  /** The calls admitted now at most. */
  get limit(): number {
    return this.#limit
  }

  get inFlight(): number {
    return this.#inFlight
  }

  /** True when a call arriving now would be shed; admits nothing. */
  atBound(): boolean {
    this.#measure()
    return this.#inFlight >= this.#limit
  }

  /** Admits a call and says true, or says false: it is over the bound and must be shed. */
  tryEnter(): boolean {
    this.#measure()
    if (this.#inFlight >= this.#limit) {
      return false
    }
    this.#inFlight += 1
    return true
  }

  /** An admitted call has its answer (whatever it is). */
  leave(): void {
    this.#inFlight -= 1
    this.#completed += 1
    this.#measure()
  }

  /**
   * Closes the window once it is long enough: the new bound is half the last and half what
   * the window measured, so one slow flush or collection does not halve the bound at once,
   * while a stall brings it to the floor within a few windows.
   */
  #measure(): void {
    const now = this.#now()
    const elapsed = now - this.#windowStart
    if (elapsed < WINDOW_MS) {
      return
    }
    const measured = (this.#completed / elapsed) * LATENCY_BUDGET_MS
    const next = Math.round((this.#limit + measured) / 2)
    this.#limit = Math.min(CEILING, Math.max(FLOOR, next))
    this.#windowStart = now
    this.#completed = 0
  }
}
