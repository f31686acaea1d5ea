/**
 * Brute-force guard: an address that keeps presenting unknown tokens or bad signatures is
 * answered 429 for a while. Only failures count, so valid calls are never limited by address.
 */
import type { CallAnswer } from './accept-call.ts'

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

  constructor({ maxFailures = 30, windowMs = 60_000, maxAddresses = 100_000 }: AddressGuardOptions = {}) {
    this.#maxFailures = maxFailures
    this.#windowMs = windowMs
    this.#maxAddresses = maxAddresses
  }

  /** Counts a failure; returns a 429 answer once the address is over its allowance. */
  fail(address: string, nowMs = Date.now()): CallAnswer | undefined {
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
    if (record.failures <= this.#maxFailures) {
      return undefined
    }
    const retryAfter = Math.max(1, Math.ceil((record.windowStartMs + this.#windowMs - nowMs) / 1000))
    return {
      status: 429,
      body: { error: 'too many unknown tokens or bad signatures from this address; wait and retry' },
      headers: { 'retry-after': String(retryAfter) },
    }
  }
}
