/** Per-trigger token buckets: a trigger's `rateLimit` refills evenly over its period. */

interface Bucket {
  tokens: number
  updatedMs: number
}

export class RateLimiter {
  #buckets = new Map<string, Bucket>()

  /** Takes one token; undefined when allowed, else the seconds until the next token. */
  take(
    key: string,
    rate: { count: number; perMs: number },
    nowMs = Date.now(),
  ): number | undefined {
    const refillPerMs = rate.count / rate.perMs
    const bucket = this.#buckets.get(key) ?? { tokens: rate.count, updatedMs: nowMs }
    bucket.tokens = Math.min(rate.count, bucket.tokens + (nowMs - bucket.updatedMs) * refillPerMs)
    bucket.updatedMs = nowMs
    this.#buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return undefined
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000))
  }
}
