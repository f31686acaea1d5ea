/**
 * Registry watches (PRODUCT.md section 10, docs/registries.md "Watching"): each watched
 * service is checked at its interval, give or take a tenth (jitter, so services written at
 * once do not ask at once); at most one check is in flight per repository, and the services
 * due on one repository share it; a repository that answers 429 or 5xx (or cannot be reached)
 * is asked again later and later, never before its Retry-After. On a multi-writer store one
 * instance holds the watch lease (a row, renewed at a third of its length) and only it checks.
 * A change becomes a call with sender `watch`, through acceptIntents as every call does.
 */
import type { Logger } from 'pino'

import { acceptIntents, recordCall } from '../calls/accept-intents.ts'
import type { EventBus } from '../events.ts'
import { newId } from '../model/ids.ts'
import { noCallInput, type Service, WATCH_SENDER } from '../model/index.ts'
import type { WatchCheck } from '../model/watch-check.ts'
import { refuseTag } from '../policy/tag-policy.ts'
import { parseImageName } from '../registry/image-name.ts'
import { RegistryError } from '../registry/registry-client.ts'
import type { Store } from '../store/store.ts'
import {
  checkRepository,
  runningTag,
  type ServiceVerdict,
  type TagsCache,
  watchedRepository,
  type WatchedService,
  type WatchRegistry,
} from './watch-check.ts'
import { systemClock, type WatchClock } from './watch-clock.ts'

export interface WatcherOptions {
  store: Store
  events: EventBus
  registry: WatchRegistry
  logger: Pick<Logger, 'warn' | 'error'>
  /** This instance's name in the lease row. */
  owner: string
  /** Take the watch lease before checking: true on a multi-writer store. */
  useLease: boolean
  clock?: WatchClock
  /** A number in [0, 1): the jitter's source. */
  random?: () => number
  /** How often the watched services are read again. Default 10 s. */
  refreshMs?: number
  /** How long the lease lasts unless renewed. Default 30 s. */
  leaseMs?: number
}

interface Entry {
  service: Service
  key: string
  at: { host: string; repository: string }
  nextAt: number
}

const MAX_BACKOFF_MS = 3_600_000
// A new watch's first check comes within this, not a whole interval, after it is seen.
const FIRST_CHECK_WITHIN_MS = 10_000

export class Watcher {
  readonly #o: Required<Omit<WatcherOptions, 'clock' | 'random'>>
  readonly #clock: WatchClock
  readonly #random: () => number
  readonly #entries = new Map<string, Entry>()
  readonly #inFlight = new Map<string, Promise<void>>()
  readonly #backoff = new Map<string, { failures: number; until: number }>()
  readonly #tagsCache: TagsCache = new Map()
  readonly #abort = new AbortController()
  #timer: unknown
  #waking: Promise<void> | undefined
  #again = false
  #refreshAt = 0
  #leaseAt = 0
  #holdsLease = false
  #stopped = false

  constructor(options: WatcherOptions) {
    this.#o = { refreshMs: 10_000, leaseMs: 30_000, ...options }
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? Math.random
  }

  /** Whether this instance holds the watch lease (always, without one). */
  get holdsLease(): boolean {
    return !this.#o.useLease || this.#holdsLease
  }

  start(): void {
    this.#wake()
  }

  /** Stops checking, waits for checks under way, and gives the lease up. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#clock.clearTimeout(this.#timer)
    this.#abort.abort()
    await this.settled()
    if (this.#o.useLease && this.#holdsLease) {
      await this.#o.store.releaseWatchLease(this.#o.owner).catch(() => undefined)
    }
  }

  /** Resolves once no wake-up and no check is under way (tests move their clock, then wait). */
  async settled(): Promise<void> {
    while (this.#waking || this.#inFlight.size > 0) {
      await Promise.all([this.#waking, ...this.#inFlight.values()])
    }
  }

  #wake(): void {
    if (this.#stopped) {
      return
    }
    if (this.#waking) {
      this.#again = true
      return
    }
    this.#clock.clearTimeout(this.#timer)
    this.#waking = this.#round()
      .catch((error: unknown) => {
        this.#o.logger.error({ err: error, code: 'DH_ERR_STORE_UNAVAILABLE' }, 'watch round failed')
      })
      .finally(() => {
        this.#waking = undefined
        if (this.#again) {
          this.#again = false
          this.#wake()
        } else {
          this.#schedule()
        }
      })
  }

  async #round(): Promise<void> {
    const now = this.#clock.now()
    if (now >= this.#refreshAt) {
      this.#refreshAt = now + this.#o.refreshMs
      await this.#refresh(now)
    }
    if (this.#o.useLease && now >= this.#leaseAt) {
      this.#leaseAt = now + Math.floor(this.#o.leaseMs / 3)
      this.#holdsLease = await this.#o.store.takeWatchLease(this.#o.owner, this.#o.leaseMs)
    }
    if (!this.holdsLease) {
      return
    }
    const due = new Map<string, Entry[]>()
    for (const entry of this.#entries.values()) {
      const blocked =
        this.#inFlight.has(entry.key) || (this.#backoff.get(entry.key)?.until ?? 0) > now
      if (entry.nextAt <= now && !blocked) {
        due.set(entry.key, [...(due.get(entry.key) ?? []), entry])
      }
    }
    for (const [key, entries] of due) {
      const check = this.#check(key, entries).finally(() => {
        this.#inFlight.delete(key)
        this.#wake()
      })
      this.#inFlight.set(key, check)
    }
  }

  /** Reads the watched services; a new or changed watch is planned, a gone one forgotten. */
  async #refresh(now: number): Promise<void> {
    const seen = new Set<string>()
    let cursor: string | undefined
    do {
      const page = await this.#o.store.listServices({ limit: 500, cursor })
      for (const service of page.items) {
        const at = service.watch ? watchedRepository(service) : null
        if (!service.watch || !at) {
          continue
        }
        seen.add(service.name)
        const known = this.#entries.get(service.name)
        const key = `${at.host}/${at.repository}`
        const same =
          known !== undefined &&
          known.key === key &&
          JSON.stringify(known.service.watch) === JSON.stringify(service.watch)
        if (same) {
          known.service = service
          continue
        }
        // After a restart the stored next check still holds; otherwise soon, spread out.
        const stored = known ? undefined : await this.#o.store.getWatchCheck(service.name)
        const storedAt = stored?.nextAt ? Date.parse(stored.nextAt) : NaN
        const soon =
          now +
          Math.floor(this.#random() * Math.min(service.watch.intervalMs, FIRST_CHECK_WITHIN_MS))
        const nextAt =
          storedAt > now && storedAt < soon + service.watch.intervalMs ? storedAt : soon
        this.#entries.set(service.name, { service, key, at, nextAt })
      }
      cursor = page.next ?? undefined
    } while (cursor)
    for (const name of this.#entries.keys()) {
      if (!seen.has(name)) {
        this.#entries.delete(name)
      }
    }
  }

  #schedule(): void {
    if (this.#stopped) {
      return
    }
    let at = this.#refreshAt
    if (this.#o.useLease) {
      at = Math.min(at, this.#leaseAt)
    }
    if (this.holdsLease) {
      for (const entry of this.#entries.values()) {
        if (!this.#inFlight.has(entry.key)) {
          at = Math.min(at, Math.max(entry.nextAt, this.#backoff.get(entry.key)?.until ?? 0))
        }
      }
    }
    this.#timer = this.#clock.setTimeout(() => this.#wake(), Math.max(0, at - this.#clock.now()))
  }

  /** One check of a repository for the services due on it, and what comes of it. */
  async #check(key: string, entries: Entry[]): Promise<void> {
    const { store } = this.#o
    const watched: WatchedService[] = []
    for (const entry of entries) {
      const previous = await store.getWatchCheck(entry.service.name)
      const last = await store.lastSucceededBefore(entry.service.name, null)
      const tag = runningTag(entry.service) ?? 'latest'
      const ranTag = last?.image ? parseImageName(last.image)?.tag : null
      watched.push({
        service: entry.service,
        previous,
        runningDigest: last?.digest && ranTag === tag ? last.digest : null,
      })
    }
    let verdicts: Map<string, ServiceVerdict>
    try {
      verdicts = await checkRepository(
        this.#o.registry,
        entries[0]!.at,
        watched,
        this.#tagsCache,
        this.#abort.signal,
      )
      this.#backoff.delete(key)
    } catch (error) {
      if (this.#stopped) {
        return
      }
      await this.#failed(key, entries, error)
      return
    }
    for (const entry of entries) {
      const verdict = verdicts.get(entry.service.name)!
      const found = verdict.change
        ? await this.#deploy(entry.service, verdict.found, verdict.change)
        : verdict.found
      await this.#record(entry, found, this.#jittered(entry.service.watch!.intervalMs))
    }
  }

  /** The change as a call with sender `watch`: refused by the tag policy, or accepted. */
  async #deploy(
    service: Service,
    found: ServiceVerdict['found'],
    change: { tag: string; reason: string },
  ): Promise<ServiceVerdict['found']> {
    const deps = { store: this.#o.store, events: this.#o.events }
    const call = {
      id: newId('call'),
      triggerId: null,
      sender: WATCH_SENDER,
      deliveryId: null,
      remoteAddress: null,
    }
    const refused = refuseTag(service, change.tag)
    if (refused !== undefined) {
      const reason = `${change.reason}; ${service.name}: ${refused}`
      await recordCall(deps, { ...call, outcome: 'ignored', status: 200, reason })
      return { ...found, outcome: 'refused', answer: reason }
    }
    const intent = {
      service: service.name,
      action: 'redeploy' as const,
      params: { tag: change.tag },
      input: noCallInput(),
      triggerId: null,
    }
    const accepted = await acceptIntents(deps, { ...call, reason: change.reason }, [intent])
    const result = accepted.results[0]
    if (result === undefined || result.kind === 'ignored') {
      const why = result?.kind === 'ignored' ? result.reason : 'nothing was queued'
      return { ...found, outcome: 'refused', answer: `${change.reason}; ${why}` }
    }
    const verb = result.kind === 'queued' ? 'queued' : 'joined'
    return {
      ...found,
      outcome: 'changed',
      answer: `${change.reason}; call ${accepted.call.id} ${verb} ${result.deployment.id}`,
    }
  }

  /** A refused or failed check: 429, 5xx and no answer back off; others wait an interval. */
  async #failed(key: string, entries: Entry[], error: unknown): Promise<void> {
    const status = error instanceof RegistryError ? error.status : null
    const message = error instanceof Error ? error.message : String(error)
    const interval = Math.min(...entries.map((e) => e.service.watch!.intervalMs))
    let delay = this.#jittered(interval)
    if (status === null || status === 429 || status >= 500) {
      const failures = (this.#backoff.get(key)?.failures ?? 0) + 1
      const retryAfter = error instanceof RegistryError ? (error.retryAfterMs ?? 0) : 0
      delay = Math.max(
        Math.min(retryAfter, MAX_BACKOFF_MS),
        Math.min(MAX_BACKOFF_MS, this.#jittered(interval * 2 ** failures)),
      )
      this.#backoff.set(key, { failures, until: this.#clock.now() + delay })
    }
    this.#o.logger.warn({ repository: key, err: error }, 'watch: the registry check failed')
    for (const entry of entries) {
      const found = {
        outcome: 'failed' as const,
        answer: message.slice(0, 500),
        tag: null,
        digest: null,
        etag: null,
      }
      const previous = await this.#o.store.getWatchCheck(entry.service.name)
      // What was seen last stays the baseline: a failed check must not make the next one a first.
      await this.#record(
        entry,
        {
          ...found,
          tag: previous?.tag ?? null,
          digest: previous?.digest ?? null,
          etag: previous?.etag ?? null,
        },
        delay,
      )
    }
  }

  async #record(entry: Entry, found: ServiceVerdict['found'], delayMs: number): Promise<void> {
    const now = this.#clock.now()
    entry.nextAt = now + delayMs
    const check: WatchCheck = {
      service: entry.service.name,
      checkedAt: new Date(now).toISOString(),
      nextAt: new Date(entry.nextAt).toISOString(),
      ...found,
    }
    await this.#o.store.saveWatchCheck(check)
  }

  /** `ms`, give or take a tenth. */
  #jittered(ms: number): number {
    return Math.round(ms * (0.9 + 0.2 * this.#random()))
  }
}
