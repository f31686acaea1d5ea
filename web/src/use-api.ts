// Loads an API path, optionally polling, so lists change without a reload.
import { useCallback, useEffect, useRef, useState } from 'react'

import { api, errorText } from './api.ts'

export interface Loaded<T> {
  data: T | undefined
  error: string | undefined
  reload: () => void
}

/** `refresh`: a value whose change loads the path again at once (an event stream's count). */
export function useApi<T>(path: string | null, intervalMs?: number, refresh?: unknown): Loaded<T> {
  const [data, setData] = useState<T>()
  const [error, setError] = useState<string>()
  const [tick, setTick] = useState(0)
  const reload = useCallback(() => setTick((n) => n + 1), [])
  const pathRef = useRef(path)
  pathRef.current = path

  useEffect(() => {
    if (path === null) {
      return
    }
    let live = true
    const load = async () => {
      try {
        const value = await api<T>(path)
        if (live && pathRef.current === path) {
          setData(value)
          setError(undefined)
        }
      } catch (caught) {
        if (live) {
          setError(errorText(caught))
        }
      }
    }
    void load()
    const timer = intervalMs ? setInterval(() => void load(), intervalMs) : undefined
    return () => {
      live = false
      clearInterval(timer)
    }
  }, [path, intervalMs, tick, refresh])

  return { data, error, reload }
}
