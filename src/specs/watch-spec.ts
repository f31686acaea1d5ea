/**
 * A service's `watch` block (PRODUCT.md section 10): `{"interval": "5m", "tags": "same" |
 * <tag policy>}`, parsed with every problem named by field, and shown back as written.
 */
import { formatDuration, parseDuration } from '../model/duration.ts'
import type { DriverName, WatchSpec } from '../model/index.ts'
import { parseTagPolicy } from '../policy/tag-policy.ts'
import { isRecord, type ProblemList } from './problems.ts'

/** Below this a watch would ask a registry more often than any registry's rate limit likes. */
export const MIN_WATCH_INTERVAL_MS = 10_000
const MAX_WATCH_INTERVAL_MS = 7 * 86_400_000
const DEFAULT_WATCH_INTERVAL_MS = 300_000
// The process driver runs no image; the others can change tags (Driver.capabilities).
const IMAGELESS_DRIVERS: readonly DriverName[] = ['process']

export const watchSchema = {
  type: ['object', 'null'],
  description: 'poll the registry of `image` and redeploy on a change',
  additionalProperties: false,
  properties: {
    interval: {
      anyOf: [{ type: 'number', minimum: 0 }, { type: 'string' }],
      description: `how often to ask, at least ${formatDuration(MIN_WATCH_INTERVAL_MS)}; default 5m`,
    },
    tags: {
      type: 'string',
      description:
        '"same": a new digest of the running tag redeploys it; a tag policy: the newest tag ' +
        'it allows redeploys. Default "same"',
    },
  },
} as const

export function parseWatch(
  value: unknown,
  service: { driver: unknown; image: unknown },
  problems: ProblemList,
): WatchSpec | undefined {
  if (value === undefined || value === null) {
    return undefined
  }
  if (!isRecord(value)) {
    problems.add(['watch'], 'must be an object: {"interval": "5m", "tags": "same" | <tag policy>}')
    return undefined
  }
  const unknown = Object.keys(value).find((key) => key !== 'interval' && key !== 'tags')
  if (unknown !== undefined) {
    problems.add(['watch', unknown], 'is not a watch field (known: interval, tags)')
    return undefined
  }
  if (IMAGELESS_DRIVERS.includes(service.driver as DriverName)) {
    problems.add(['watch'], `the ${String(service.driver)} driver cannot change image tags`)
    return undefined
  }
  if (typeof service.image !== 'string' || service.image === '') {
    problems.add(['watch'], "needs the service's image: the repository the watch asks about")
    return undefined
  }
  const intervalMs =
    value.interval === undefined ? DEFAULT_WATCH_INTERVAL_MS : parseDuration(value.interval)
  if (
    intervalMs === undefined ||
    intervalMs < MIN_WATCH_INTERVAL_MS ||
    intervalMs > MAX_WATCH_INTERVAL_MS
  ) {
    const least = formatDuration(MIN_WATCH_INTERVAL_MS)
    problems.add(
      ['watch', 'interval'],
      `must be a duration from ${least} to 7d, such as 30s or 5m; got ${JSON.stringify(value.interval)}`,
    )
  }
  const tags = value.tags === undefined ? 'same' : value.tags
  if (typeof tags !== 'string') {
    problems.add(['watch', 'tags'], 'must be "same" or a tag policy such as semver-minor')
  } else if (tags !== 'same') {
    const policy = parseTagPolicy(tags)
    if (!policy.ok) {
      problems.add(['watch', 'tags'], `must be "same" or a tag policy: ${policy.error}`)
    }
  }
  return intervalMs === undefined || typeof tags !== 'string'
    ? undefined
    : { intervalMs, tags: tags.trim() }
}

export function watchView(watch: WatchSpec): { interval: string; tags: string } {
  return { interval: formatDuration(watch.intervalMs), tags: watch.tags }
}
