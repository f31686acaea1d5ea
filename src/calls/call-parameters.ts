/**
 * The query parameters Deckhand itself reads on a trigger call (`wait`, `tag`, `services`),
 * checked before anything is queued: a value that does not parse is refused with a 400 naming
 * the parameter, never dropped, so a CI job that asked to wait cannot pass on a failed deploy.
 */
import { parseDuration } from '../model/duration.ts'
import type { Trigger } from '../model/index.ts'
import { isImageTag } from '../policy/tag-policy.ts'
import { NAME_PATTERN } from '../specs/problems.ts'

/** The longest `?wait=` a call may hold its answer for. */
export const MAX_WAIT_MS = 30 * 60_000
const MAX_SERVICES = 100

type Query = Readonly<Record<string, string | undefined>>

/** Why the call's own parameters are refused, or undefined when they all parse. */
export function refuseCallParameters(query: Query, trigger: Trigger): string | undefined {
  return (
    refuseWait(query.wait) ??
    refuseTag(query.tag, trigger) ??
    refuseServices(query.services, trigger)
  )
}

/** The wait a checked call asked for, in milliseconds; undefined when it asked for none. */
export function waitOf(query: Query): number | undefined {
  const waitMs =
    query.wait === undefined || query.wait === '' ? undefined : parseDuration(query.wait)
  return waitMs === undefined || waitMs <= 0 ? undefined : Math.min(waitMs, MAX_WAIT_MS)
}

function refuseWait(wait: string | undefined): string | undefined {
  if (wait === undefined || wait === '') {
    return undefined
  }
  const waitMs = parseDuration(wait)
  if (waitMs === undefined) {
    return `?wait= must be a duration such as 90s, 5m or 1h (or a number of seconds), at most 30m; got ${quote(wait)}`
  }
  if (waitMs > MAX_WAIT_MS) {
    return `?wait= is at most 30m; got ${quote(wait)}`
  }
  return undefined
}

function refuseTag(tag: string | undefined, trigger: Trigger): string | undefined {
  if (tag === undefined || tag === '') {
    return undefined
  }
  if (!trigger.allowTag) {
    return `?tag= is not taken by this trigger (its allowTag is false); drop the parameter or create a trigger that allows it`
  }
  if (!isImageTag(tag)) {
    return `?tag= must be an image tag: letters, digits, "_", "." or "-", at most 128 characters, not starting with "." or "-"; got ${quote(tag)}`
  }
  return undefined
}

function refuseServices(services: string | undefined, trigger: Trigger): string | undefined {
  if (services === undefined || services === '') {
    return undefined
  }
  if (trigger.stack === null) {
    return `?services= applies to stack triggers only; this trigger deploys service ${trigger.service}`
  }
  const names = services
    .split(',', MAX_SERVICES + 1)
    .map((name) => name.trim())
    .filter(Boolean)
  if (names.length > MAX_SERVICES) {
    return `?services= names at most ${MAX_SERVICES} services`
  }
  const bad = names.find((name) => !NAME_PATTERN.test(name))
  if (bad !== undefined) {
    return `?services= must be a comma list of service names (web,api); ${quote(bad)} is not a service name`
  }
  return undefined
}

/** A caller's value as the answer quotes it: JSON-escaped and cut, never the whole of a long one. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)
}
