/**
 * Brute-force guard: an address that keeps failing (unknown tokens, bad signatures, calls from
 * outside a trigger's allowIps, bad admin tokens) is refused for a while. Only failures count.
 */

export interface AddressGuardOptions {
  /** Failures allowed per address within `windowMs` before it is blocked. */
  maxFailures?: number
  windowMs?: number
  /** Addresses remembered at once; the oldest are forgotten first, so a spray cannot grow memory. */
  maxAddresses?: number
}

interface Record {
  failures: number
  windowStartMs: number
}

export class AddressGuard {
  #records = new Map<string, Record>()
  #maxFailures: number
  #windowMs: number
  #maxAddresses: number

  constructor({
    maxFailures = 30,
    windowMs = 60_000,
    maxAddresses = 100_000,
  }: AddressGuardOptions = {}) {
    this.#maxFailures = maxFailures
    this.#windowMs = windowMs
    this.#maxAddresses = maxAddresses
  }

  /** Counts a failure; returns the seconds to wait once the address is over its allowance. */
  fail(address: string, nowMs = Date.now()): number | undefined {
    let record = this.#records.get(address)
    if (!record || nowMs - record.windowStartMs >= this.#windowMs) {
      record = { failures: 0, windowStartMs: nowMs }
      this.#records.delete(address)
      if (this.#records.size >= this.#maxAddresses) {
        this.#records.delete(this.#records.keys().next().value!)
      }
      this.#records.set(address, record)
    }
    record.failures += 1
    return this.#retryAfter(record, nowMs)
  }

  /** The seconds to wait when the address is over its allowance now, without counting anything. */
  blocked(address: string, nowMs = Date.now()): number | undefined {
    const record = this.#records.get(address)
    return record && nowMs - record.windowStartMs < this.#windowMs
      ? this.#retryAfter(record, nowMs)
      : undefined
  }

  #retryAfter(record: Record, nowMs: number): number | undefined {
    if (record.failures <= this.#maxFailures) {
      return undefined
    }
    return Math.max(1, Math.ceil((record.windowStartMs + this.#windowMs - nowMs) / 1000))
  }
}
