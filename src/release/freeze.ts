/**
 * A freeze as asked for (`POST /api/v1/services/{name}/freeze`): when it ends, from a duration
 * such as `2h`, an ISO time or null (until lifted), and its bounded message. Pure.
 */
import { parseDuration } from '../model/duration.ts'
import type { ServiceFreeze } from '../model/index.ts'

/** A freeze message is shown in every held call's answer: kept short. */
export const MAX_FREEZE_MESSAGE_CHARS = 500
/** A freeze ends at most this far ahead (a year); for longer, freeze without an end. */
const MAX_FREEZE_MS = 366 * 86_400_000
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

export type FreezeParse =
  { ok: true; value: ServiceFreeze } | { ok: false; field: 'until' | 'message'; error: string }

/** The freeze `by` asks for at `now` (ms), or the field that is wrong and why. */
export function parseFreeze(
  input: { until?: unknown; message?: unknown },
  by: string,
  now: number,
): FreezeParse {
  const until = freezeUntil(input.until, now)
  if (until === undefined) {
    return {
      ok: false,
      field: 'until',
      error: 'must be a duration such as 2h, an ISO time in the future with its zone, or null',
    }
  }
  const message = input.message ?? 'frozen'
  if (typeof message !== 'string' || message.trim() === '') {
    return { ok: false, field: 'message', error: 'must be a non-empty string' }
  }
  if (message.length > MAX_FREEZE_MESSAGE_CHARS) {
    return {
      ok: false,
      field: 'message',
      error: `must be at most ${MAX_FREEZE_MESSAGE_CHARS} characters; got ${message.length}`,
    }
  }
  return {
    ok: true,
    value: { until, message: message.trim(), by, at: new Date(now).toISOString() },
  }
}

/** `2h` → now + 2h; an ISO time after now → itself; null or absent → null; else undefined. */
export function freezeUntil(value: unknown, now: number): string | null | undefined {
  if (value === null || value === undefined) {
    return null
  }
  if (typeof value !== 'string' || value.length > 40) {
    return undefined
  }
  const duration = /^\d/.test(value) && !value.includes('-') ? parseDuration(value) : undefined
  const at =
    duration !== undefined ? now + duration : ISO_TIME.test(value) ? Date.parse(value) : NaN
  if (!Number.isFinite(at) || at <= now || at - now > MAX_FREEZE_MS) {
    return undefined
  }
  return new Date(at).toISOString()
}

/** True while `freeze` holds deployments at `now` (ms). */
export function isFrozen(freeze: ServiceFreeze | null | undefined, now: number): boolean {
  return !!freeze && (freeze.until === null || Date.parse(freeze.until) > now)
}
