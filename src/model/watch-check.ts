/** What a registry watch last found for a service (src/watch/, migration 0006). */

/**
 * `unchanged`: the registry names what runs; `changed`: a call with sender `watch` was made;
 * `refused`: the change was not deployed (the service's tag policy, a call ignored); `failed`:
 * the registry could not be asked or refused.
 */
export const WATCH_OUTCOMES = ['unchanged', 'changed', 'refused', 'failed'] as const
export type WatchOutcome = (typeof WATCH_OUTCOMES)[number]

export interface WatchCheck {
  service: string
  checkedAt: string
  /** When the next check is due; null when the watch stopped (service changed or gone). */
  nextAt: string | null
  outcome: WatchOutcome
  /** What the check found, in words: the tag or digest seen, the registry's refusal. */
  answer: string
  /** The tag the check looked at (the running one for `same`, the newest allowed otherwise). */
  tag: string | null
  /** The digest that tag named, when the registry said. */
  digest: string | null
  /** The registry's ETag for what was asked, sent back as If-None-Match next time. */
  etag: string | null
}
