/**
 * The store's part of registry watches (src/watch/): the last check of each service, and the
 * watch lease, so that of several instances sharing a PostgreSQL database one checks.
 */
import type { WatchCheck } from '../model/watch-check.ts'

export interface WatchStore {
  /** Keeps `check` as the service's last one; nothing when the service is gone. */
  saveWatchCheck(check: WatchCheck): Promise<void>
  getWatchCheck(service: string): Promise<WatchCheck | undefined>
  /**
   * Takes or renews the watch lease for `leaseMs` when it is free, expired or `owner`'s
   * already; true when `owner` holds it afterwards. Expiry is judged by the database's clock.
   */
  takeWatchLease(owner: string, leaseMs: number): Promise<boolean>
  /** Gives the lease up at once, when `owner` holds it, so another instance need not wait. */
  releaseWatchLease(owner: string): Promise<void>
}

/** The lease row's name: one lease covers every watch. */
export const WATCH_LEASE = 'watch'

/** A watch_checks row as either database returns it (PostgreSQL's times are Dates). */
export function toWatchCheck(row: Record<string, unknown>): WatchCheck {
  const text = (value: unknown): string | null =>
    value === null || value === undefined
      ? null
      : value instanceof Date
        ? value.toISOString()
        : String(value)
  return {
    service: String(row.service),
    checkedAt: text(row.checked_at)!,
    nextAt: text(row.next_at),
    outcome: String(row.outcome) as WatchCheck['outcome'],
    answer: String(row.answer),
    tag: text(row.tag),
    digest: text(row.digest),
    etag: text(row.etag),
  }
}
