/**
 * Large bodies are read one per turn of the event loop. A sender's parse of 1 MiB costs 15–25 ms
 * (with its signature check and the call's resolution), and 20 such calls arriving together ran
 * back to back (151 ms of event-loop delay in the black-box run) while /healthz and every other
 * call waited.
 * The gate stands after the trigger's lookup, right before the first work that reads the body:
 * on PostgreSQL the lookup is a network round trip, and a gate before it (the fast path's, until
 * then) let the parses of calls whose lookups answered in the same read run together again.
 */

/** Bodies this large wait their turn; smaller ones cost less than the turn would. */
export const LARGE_BODY_BYTES = 256 * 1024

/** Lets its waiters go one per turn of the event loop, in the order they came. */
export class TurnGate {
  #waiting: (() => void)[] = []
  #draining = false

  /** Resolves on a later turn, each waiter on a turn of its own. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve)
      if (!this.#draining) {
        this.#draining = true
        setImmediate(this.#drainOne)
      }
    })
  }

  // One waiter, whose work runs in the microtasks right after this; the next on the next turn,
  // since an immediate scheduled from an immediate waits for the loop to come round.
  #drainOne = (): void => {
    const next = this.#waiting.shift()
    if (next === undefined) {
      this.#draining = false
      return
    }
    next()
    setImmediate(this.#drainOne)
  }
}
