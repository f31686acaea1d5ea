/** The time and timers the watcher runs on: the system's, or a test's that it moves itself. */
export interface WatchClock {
  now(): number
  setTimeout(fire: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: WatchClock = {
  now: () => Date.now(),
  setTimeout: (fire, ms) => {
    const timer = setTimeout(fire, ms)
    // A pending check never keeps a process alive that is otherwise done.
    timer.unref()
    return timer
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}
