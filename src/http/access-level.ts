/**
 * The level of a request's access line. A trigger call the store records gets its own line
 * (server/activity-log.ts), so its access line is debug, as are the UI's polling and health
 * probes; what is left at info is what a person wants to see: changes made through the API,
 * failures, and trigger calls refused before anything was recorded (unknown token, rate
 * limited, too large, shutting down).
 */
export type AccessLevel = 'debug' | 'info'

/** Hook answers that are never recorded as calls, so the access line is all there is. */
const UNRECORDED_HOOK_STATUSES = new Set([404, 413, 414, 429, 431])

/**
 * `retryAfter`: the answer carries Retry-After. A hook 503 that does is a call shed at the
 * intake's bound (hook-call.ts): under overload those come by the ten thousand a second, so
 * they are counted (deckhand_calls_shed_total) and summed up in one warning every 10 s
 * (server/activity-log.ts), not given a line each.
 */
export function accessLevel(
  method: string,
  url: string,
  status: number,
  retryAfter = false,
): AccessLevel {
  if (url.startsWith('/hooks/')) {
    if (status === 503 && retryAfter) {
      return 'debug'
    }
    return status >= 500 || UNRECORDED_HOOK_STATUSES.has(status) ? 'info' : 'debug'
  }
  if (status >= 400) {
    return 'info'
  }
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'debug' : 'info'
}
