/**
 * Triggers by token hash and services by name, kept in memory for the hot path (each call
 * needs both, and reading them costs a statement and a JSON parse each). Sound because SQLite
 * has one writer: every method that changes a trigger or a service (sqlite-catalogue.ts, and
 * finishDeployment in sqlite-queue.ts) clears the cache right after its commit, on the same turn of the event loop, so a revoked or rotated
 * token answers 404 on the very next call. Another connection writing the same file (a second
 * process, an operator's sqlite3 shell) moves `PRAGMA data_version`, which trigger lookups read
 * at most every CHECK_OTHERS_MS and which clears the whole cache too: read on every call, it
 * cost more than the rest of accepting the call (a read in WAL mode takes file locks, ~15 µs
 * under load here).
 * Unknown tokens are not cached, so a spray of them cannot grow it. The PostgreSQL store has
 * no such cache: other instances change rows there.
 */
import type { Service, Trigger } from '../../model/index.ts'
import type { SqliteConnection } from './sqlite-connection.ts'

/** Past this many entries a map is emptied and refilled by the next lookups. */
const MAX_ENTRIES = 100_000
/** How stale a change made by another process may be seen. */
export const CHECK_OTHERS_MS = 100

export class SqliteReadCache {
  #connection: SqliteConnection
  #triggers = new Map<string, Trigger>()
  #services = new Map<string, Service>()
  #dataVersion: unknown
  #checkedAt = -Infinity

  constructor(connection: SqliteConnection) {
    this.#connection = connection
  }

  trigger(tokenHash: string, load: () => Trigger | undefined): Trigger | undefined {
    this.#checkOthers()
    return remember(this.#triggers, tokenHash, load)
  }

  /** Checks for other writers only on trigger lookups: every call starts with one. */
  service(name: string, load: () => Service | undefined): Service | undefined {
    return remember(this.#services, name, load)
  }

  clear(): void {
    this.#triggers.clear()
    this.#services.clear()
  }

  /** Clears the cache when another connection has committed since the last look. */
  #checkOthers(): void {
    const now = performance.now()
    if (now - this.#checkedAt < CHECK_OTHERS_MS) {
      return
    }
    this.#checkedAt = now
    const version = this.#connection.get('PRAGMA data_version')?.data_version
    if (version !== this.#dataVersion) {
      this.#dataVersion = version
      this.clear()
    }
  }
}

function remember<T extends object>(
  map: Map<string, T>,
  key: string,
  load: () => T | undefined,
): T | undefined {
  const cached = map.get(key)
  if (cached) {
    return cached
  }
  const loaded = load()
  if (loaded) {
    if (map.size >= MAX_ENTRIES) {
      map.clear()
    }
    // Every caller gets the same object: frozen, so no caller can change what the next one reads.
    map.set(key, deepFreeze(loaded))
  }
  return loaded
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) {
      deepFreeze(child)
    }
  }
  return value
}
