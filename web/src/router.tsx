// A small History API router: the server answers index.html for every non-API path.
import { type MouseEvent, type ReactNode, useEffect, useState } from 'react'

const listeners = new Set<() => void>()

/** Goes to `path`; `flash` is a one-line message the next page shows once (see useFlash). */
export function navigate(path: string, flash?: string): void {
  history.pushState(flash === undefined ? null : { flash }, '', path)
  listeners.forEach((listener) => listener())
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname)
  useEffect(() => {
    const update = () => setPath(location.pathname)
    listeners.add(update)
    addEventListener('popstate', update)
    return () => {
      listeners.delete(update)
      removeEventListener('popstate', update)
    }
  }, [])
  return path
}

/** The message `navigate` carried here, read once: a reload or a later visit does not repeat it. */
export function useFlash(): string | undefined {
  const [flash] = useState<string | undefined>(() => {
    const state: unknown = history.state
    return state && typeof state === 'object' && 'flash' in state ? String(state.flash) : undefined
  })
  useEffect(() => {
    if (flash !== undefined) {
      history.replaceState(null, '')
    }
  }, [flash])
  return flash
}

export function Link({
  to,
  children,
  className,
  current,
}: {
  to: string
  children: ReactNode
  className?: string
  current?: boolean
}) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    // Let the browser handle new tabs and windows.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return
    }
    event.preventDefault()
    navigate(to)
  }
  return (
    <a
      href={to}
      onClick={onClick}
      className={className}
      aria-current={current ? 'page' : undefined}
    >
      {children}
    </a>
  )
}
