/** Durations as PRODUCT.md writes them: seconds as a number, or a string with a unit. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Milliseconds for `500ms`, `30s`, `5m`, `1h`, `30d` or a number of seconds; undefined when malformed. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined
  }
  if (typeof value !== 'string') {
    return undefined
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value)
  if (!match) {
    return undefined
  }
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!)
}

/** Formats milliseconds the way a person writes them back in a config file. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) {
      return `${ms / size}${unit}`
    }
  }
  return `${ms}ms`
}

const RATE_PERIOD_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  min: 60_000,
  m: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
}

/** `600/min` → { count: 600, perMs: 60000 }; undefined when malformed. */
export function parseRate(value: unknown): { count: number; perMs: number } | undefined {
  if (typeof value !== 'string') {
    return undefined
  }
  const match = /^\s*(\d+)\s*\/\s*(s|sec|min|m|h|hour)\s*$/.exec(value)
  if (!match) {
    return undefined
  }
  const count = Number(match[1])
  return count > 0 ? { count, perMs: RATE_PERIOD_MS[match[2]!]! } : undefined
}

export function formatRate(rate: { count: number; perMs: number }): string {
  const unit = rate.perMs === 1000 ? 's' : rate.perMs === 3_600_000 ? 'h' : 'min'
  return `${rate.count}/${unit}`
}
