// Reading what senders send without trusting it: headers, JSON bodies, refs, repository names.
import { isUtf8 } from 'node:buffer'

import type { SenderEvent, SenderParse, SenderRequest } from './sender.ts'

export type JsonObject = { readonly [key: string]: unknown }

export type BodyRead = { ok: true; value: JsonObject } | { ok: false; problem: string }

/** Delivery ids longer than this are not ids a real sender makes; they are not stored. */
const MAX_DELIVERY_ID_LENGTH = 200

// Recognition asks several senders about one body: parse it once per request.
const parsedBodies = new WeakMap<Buffer, BodyRead>()

/** A header as a non-empty string; anything else (absent, empty, an array) is undefined. */
export function header(request: SenderRequest, name: string): string | undefined {
  const value: unknown = request.headers?.[name]
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
}

/** A query parameter as a non-empty string. */
export function queryParam(request: SenderRequest, name: string): string | undefined {
  const value: unknown = request.query?.[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** The media type of the request, lower-case, without parameters. */
export function mediaType(request: SenderRequest): string {
  return (header(request, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/** The body as text when it is valid UTF-8, else undefined. */
export function bodyText(request: SenderRequest): string | undefined {
  if (!Buffer.isBuffer(request.body) || !isUtf8(request.body)) {
    return undefined
  }
  const text = request.body.toString('utf8')
  // A byte order mark is not part of the text (TextDecoder drops it too); some senders write one.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

function decodeJson(text: string): BodyRead {
  if (!/\S/.test(text)) {
    return { ok: false, problem: 'the body is empty' }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    // V8's message quotes the body, and bodies never go into messages: keep only the position.
    const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')
    return {
      ok: false,
      problem: position
        ? `the body is not valid JSON (error at character ${position[1]})`
        : 'the body is not valid JSON',
    }
  }
  return isObject(value)
    ? { ok: true, value }
    : {
        ok: false,
        problem: `the body is JSON but ${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'null' : `a ${typeof value}`}, not an object`,
      }
}

/**
 * The body as a JSON object. With `formPayload`, a form-encoded body's `payload` field is read
 * instead: GitHub and Gitea offer `application/x-www-form-urlencoded` deliveries that way.
 */
export function readJsonBody(
  request: SenderRequest,
  options?: { formPayload?: boolean },
): BodyRead {
  if (options?.formPayload === true && mediaType(request) === 'application/x-www-form-urlencoded') {
    const text = bodyText(request)
    if (text === undefined) {
      return { ok: false, problem: 'the body is not valid UTF-8' }
    }
    const payload = new URLSearchParams(text).get('payload')
    return payload === null
      ? { ok: false, problem: 'the form body has no "payload" field' }
      : decodeJson(payload)
  }
  if (!Buffer.isBuffer(request.body)) {
    return { ok: false, problem: 'the body is empty' }
  }
  const cached = parsedBodies.get(request.body)
  if (cached !== undefined) {
    return cached
  }
  const text = bodyText(request)
  const read: BodyRead =
    text === undefined ? { ok: false, problem: 'the body is not valid UTF-8' } : decodeJson(text)
  parsedBodies.set(request.body, read)
  return read
}

/** The body as a JSON object, or undefined: for recognising senders by the body's shape. */
export function jsonObjectBody(request: SenderRequest): JsonObject | undefined {
  // Only bodies that could be JSON objects are parsed, so a large text body costs one byte look.
  if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
    return undefined
  }
  const first = request.body.subarray(0, 64).toString('latin1').trimStart()[0]
  if (first !== '{' && first !== '\u00ef') {
    return undefined
  }
  const read = readJsonBody(request)
  return read.ok ? read.value : undefined
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `value` when it is a JSON object. */
export function objectAt(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined
}

/** `value` when it is a non-empty string. */
export function stringAt(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** `value` when it is an array. */
export function arrayAt(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined
}

/** Follows `path` through nested objects. */
export function pathAt(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) {
    if (!isObject(current)) {
      return undefined
    }
    current = current[key]
  }
  return current
}

export type GitRef = { branch: string } | { tag: string } | { other: string }

/** Splits `refs/heads/x` into a branch and `refs/tags/x` into a tag. */
export function parseGitRef(ref: string): GitRef {
  if (ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length) {
    return { branch: ref.slice('refs/heads/'.length) }
  }
  if (ref.startsWith('refs/tags/') && ref.length > 'refs/tags/'.length) {
    return { tag: ref.slice('refs/tags/'.length) }
  }
  return { other: ref }
}

/** Git's all-zero object name: the `before` of a new ref, the `after` of a deleted one. */
export function isNullCommit(sha: string | undefined): boolean {
  return sha !== undefined && /^0+$/.test(sha)
}

/** `owner/name` in lower case, as services name their git and image repositories. */
export function normaliseRepository(name: string): string {
  const text = trimSlashes(name.trim().toLowerCase())
  return text.endsWith('.git') ? text.slice(0, -'.git'.length) : text
}

/**
 * `text` without leading and trailing `/`. A loop, not `/\/+$/`: a backtracking engine tries
 * that pattern at every slash of a long run, which is quadratic in a caller's string.
 */
export function trimSlashes(text: string): string {
  let start = 0
  let end = text.length
  while (start < end && text[start] === '/') {
    start++
  }
  while (end > start && text[end - 1] === '/') {
    end--
  }
  return text.slice(start, end)
}

/** `text` up to its first `@` (a digest or userinfo follows it), found in one pass. */
export function beforeAt(text: string): string {
  const at = text.indexOf('@')
  return at === -1 ? text : text.slice(0, at)
}

/**
 * The files a push changed, from its commits' added/modified/removed lists. Undefined when
 * the list cannot be trusted to be complete: no commits (a new tag or branch) or a truncated
 * list, so `git.paths` filters never ignore a push on partial information.
 */
export function changedFilesOf(commits: unknown, complete: boolean): string[] | undefined {
  const list = arrayAt(commits)
  if (list === undefined || list.length === 0 || !complete) {
    return undefined
  }
  const files = new Set<string>()
  for (const commit of list) {
    for (const key of ['added', 'modified', 'removed']) {
      for (const file of arrayAt(pathAt(commit, key)) ?? []) {
        if (typeof file === 'string' && file !== '') {
          files.add(file)
        }
      }
    }
  }
  return [...files]
}

/**
 * The delivery id a retry repeats: the first of the sender's own headers that is present,
 * else the `Idempotency-Key` any sender may send.
 */
export function deliveryIdOf(request: SenderRequest, ...headers: string[]): string | undefined {
  for (const name of [...headers, 'idempotency-key']) {
    const value = header(request, name)
    if (value !== undefined) {
      return value.length <= MAX_DELIVERY_ID_LENGTH ? value : undefined
    }
  }
  return undefined
}

/** A value from a request, shortened and quoted, safe to name in a reason. */
export function quote(value: string): string {
  return JSON.stringify(shown(value))
}

/**
 * A caller's value inside a sentence, bare, cut as `quote` cuts it: reasons are recorded,
 * logged and answered, so no field may make them long.
 */
export function shown(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}…` : value
}

/** Drops undefined fields, so events compare and serialise cleanly. */
export function compact(event: SenderEvent): SenderEvent {
  const defined: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(event)) {
    if (field !== undefined) {
      defined[key] = field
    }
  }
  return defined as unknown as SenderEvent
}

/** A parsed event, without its undefined fields. */
export const accepted = (event: SenderEvent): SenderParse => ({ ok: true, event: compact(event) })

export const ignored = (reason: string): SenderParse => ({ ok: false, ignored: reason })
export const invalid = (reason: string): SenderParse => ({ ok: false, invalid: reason })
