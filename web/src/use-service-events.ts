// Follows a service's event stream (GET /services/{name}/events): a list re-reads when the
// stream says it changed, instead of polling every few seconds. The poll stays, slower: a change
// made on another instance sharing the database reaches no stream here (docs/architecture.md).
import { useEffect, useState } from 'react'

import { ApiError, apiFetch } from './api.ts'
import { readEvents } from './sse.ts'
import type { TriggerOwner } from './types.ts'
import { type Loaded, useApi } from './use-api.ts'

/** How often a list is still re-read while its stream is live. */
export const LIVE_POLL_MS = 30_000
/** Waits before reconnecting a stream that ended or failed, the last one repeated. */
const RETRY_MS = [1000, 2000, 5000, 15_000, 30_000]

export type ServiceEventKind = 'deployment' | 'trigger'

/**
 * `live` while the stream is open; `changes` counts the `kind` events it brought, for useApi's
 * refresh key. A null service (a stack's triggers) opens nothing: its lists poll.
 */
export function useServiceEvents(
  service: string | null,
  kind: ServiceEventKind,
): { live: boolean; changes: number } {
  const [live, setLive] = useState(false)
  const [changes, setChanges] = useState(0)
  useEffect(() => {
    if (service === null) {
      return
    }
    const abort = new AbortController()
    let retry: ReturnType<typeof setTimeout> | undefined
    let failures = 0
    const connect = async () => {
      try {
        const response = await apiFetch(`/services/${encodeURIComponent(service)}/events`, {
          signal: abort.signal,
        })
        await readEvents(response.body!, ({ event }) => {
          if (event === 'ready') {
            failures = 0
            setLive(true)
          } else if (event === kind) {
            setChanges((n) => n + 1)
          }
        })
      } catch (caught) {
        // Refused for good (signed out, service deleted): polling alone, as before streams.
        if (caught instanceof ApiError && caught.status < 500 && caught.status !== 429) {
          setLive(false)
          return
        }
      }
      if (abort.signal.aborted) {
        return
      }
      // Ended (its 10 minutes, a restart) or full: poll fast until it is back.
      setLive(false)
      retry = setTimeout(() => void connect(), RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)])
    }
    void connect()
    return () => {
      abort.abort()
      clearTimeout(retry)
      setLive(false)
    }
  }, [service, kind])
  return { live, changes }
}

/** useApi refreshed by the service's `kind` events, polled every `pollMs` while they are down. */
export function useLiveApi<T>(
  path: string,
  service: string | null,
  kind: ServiceEventKind,
  pollMs: number,
): Loaded<T> & { live: boolean } {
  const { live, changes } = useServiceEvents(service, kind)
  return { ...useApi<T>(path, live ? LIVE_POLL_MS : pollMs, changes), live }
}

/** The service whose stream follows an owner's triggers; a stack has none (its list polls). */
export function streamOf(owner: TriggerOwner): string | null {
  return owner.kind === 'services' ? owner.name : null
}
