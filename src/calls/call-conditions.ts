/**
 * A trigger's `match` tested against one call: headers, query parameters and paths into a JSON
 * or form body, combined by all / any / not. The answer is the first condition that fails.
 * Linear in the body: it is parsed at most once, each condition walks a bounded path or runs a
 * linear-time (RE2) expression over one value, and the conditions are bounded at creation.
 */
import type { RE2JS } from 're2js'

import type { CallMatch, MatchValue } from '../model/index.ts'
import type { SenderRequest } from '../senders/sender.ts'
import { bodyText, jsonObjectBody, mediaType } from '../senders/sender-payload.ts'
import { compileMatchRegex, parseBodyPath, type PathSegment } from '../specs/call-match-spec.ts'

const ABSENT = Symbol('absent')
type Read = unknown

/** How much of an expected value a reason quotes. */
const QUOTE_CHARS = 80

// Compiled once per stored match object: the SQLite store's trigger cache keeps it alive.
const regexes = new WeakMap<CallMatch, RE2JS | undefined>()
const paths = new WeakMap<CallMatch, PathSegment[] | undefined>()

/**
 * Why the call fails the trigger's match, for its `ignored` answer and the audit trail; undefined
 * when it meets it or there is none. The reason quotes the condition as written, never the
 * call's own value (a header may carry a credential, a body anything).
 */
export function unmetCondition(
  match: CallMatch | null | undefined,
  request: SenderRequest,
): string | undefined {
  if (!match) {
    return undefined
  }
  const failure = check(match, 'match', new CallValues(request))
  return failure === undefined ? undefined : `the call does not match the trigger: ${failure}`
}

function check(node: CallMatch, where: string, values: CallValues): string | undefined {
  if (node.all === undefined && node.any === undefined && node.not === undefined) {
    return checkCondition(node, where, values)
  }
  for (const [index, child] of (node.all ?? []).entries()) {
    const failure = check(child, `${where}.all[${index}]`, values)
    if (failure !== undefined) {
      return failure
    }
  }
  if (node.any !== undefined) {
    let first: string | undefined
    for (const [index, child] of node.any.entries()) {
      const failure = check(child, `${where}.any[${index}]`, values)
      if (failure === undefined) {
        first = undefined
        break
      }
      first ??= failure
    }
    if (first !== undefined) {
      return `${where}.any: none of its ${node.any.length} entries held; the first: ${first}`
    }
  }
  if (node.not !== undefined && check(node.not, `${where}.not`, values) === undefined) {
    const inner = node.not
    const isGroup = inner.all !== undefined || inner.any !== undefined || inner.not !== undefined
    const held = isGroup ? 'the group it names held' : `the call has ${describe(inner)}`
    return `${where}.not: ${held}`
  }
  return undefined
}

function checkCondition(node: CallMatch, where: string, values: CallValues): string | undefined {
  const value = values.read(node)
  const subject = subjectOf(node)
  if (node.exists !== undefined) {
    if ((value !== ABSENT) === node.exists) {
      return undefined
    }
    return node.exists
      ? `${where}: wanted ${subject} to exist; the call has none`
      : `${where}: wanted no ${subject}; the call has one`
  }
  const wanted = `${where}: wanted ${describe(node)}`
  if (value === ABSENT) {
    return `${wanted}; the call has no ${subject}`
  }
  const text = textOf(value)
  if (text === undefined) {
    const kind = Array.isArray(value) ? 'a list' : 'an object'
    return `${wanted}; ${subject} is ${kind}, not a single value`
  }
  if (node.equals !== undefined) {
    return text === textOf(node.equals) ? undefined : `${wanted}; the call's value differs`
  }
  if (node.in !== undefined) {
    const isIn = node.in.some((item) => textOf(item) === text)
    return isIn ? undefined : `${wanted}; the call's value is none of them`
  }
  const regex = cached(regexes, node, () => {
    const compiled = compileMatchRegex(node.regex ?? '')
    return typeof compiled === 'string' ? undefined : compiled
  })
  return regex?.test(text) === true ? undefined : `${wanted}; the call's value does not match`
}

/** `header x-github-event equals "push"` — the condition as written, quoted within bounds. */
function describe(node: CallMatch): string {
  const subject = subjectOf(node)
  if (node.exists !== undefined) {
    return node.exists ? `${subject} present` : `no ${subject}`
  }
  if (node.equals !== undefined) {
    return `${subject} equals ${quote(node.equals)}`
  }
  if (node.in !== undefined) {
    return `${subject} in ${quote(node.in)}`
  }
  return `${subject} matching ${quote(node.regex ?? '')}`
}

function subjectOf(node: CallMatch): string {
  if (node.header !== undefined) {
    return `header ${node.header}`
  }
  return node.query !== undefined ? `query ${node.query}` : `body ${node.body}`
}

function quote(value: MatchValue | MatchValue[]): string {
  const text = JSON.stringify(value)
  return text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text
}

/** A scalar as conditions compare it (`5`, `true`, `null`); undefined for a list or object. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return String(value)
  }
  return undefined
}

function cached<T>(map: WeakMap<CallMatch, T>, node: CallMatch, make: () => T): T {
  if (!map.has(node)) {
    map.set(node, make())
  }
  return map.get(node) as T
}

/** The values of one call, the body read once and only when a condition asks for it. */
class CallValues {
  #request: SenderRequest
  #body: Read | undefined

  constructor(request: SenderRequest) {
    this.#request = request
  }

  read(node: CallMatch): Read {
    if (node.header !== undefined) {
      return stringOr(this.#request.headers[node.header])
    }
    if (node.query !== undefined) {
      return stringOr(this.#request.query[node.query])
    }
    const segments = cached(paths, node, () => parseBodyPath(node.body ?? ''))
    this.#body ??= readBody(this.#request)
    return segments === undefined ? ABSENT : walk(this.#body, segments)
  }
}

function stringOr(value: unknown): Read {
  return typeof value === 'string' ? value : ABSENT
}

/**
 * A body that starts like JSON is JSON whatever its type (`curl -d '{…}'` sends a form type); a
 * form is read as fields; anything else has no paths.
 */
function readBody(request: SenderRequest): Read {
  // A JSON object body was parsed already by the sender, and that parse is cached per request.
  const object = jsonObjectBody(request)
  if (object !== undefined) {
    return object
  }
  const text = bodyText(request)
  const start = text === undefined ? -1 : text.search(/\S/)
  if (text === undefined || start === -1 || text[start] === '{') {
    return ABSENT
  }
  if (text[start] === '[') {
    return parseJson(text)
  }
  return mediaType(request) === 'application/x-www-form-urlencoded' ? new FormFields(text) : ABSENT
}

function parseJson(text: string): Read {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return ABSENT
  }
}

/**
 * A form body's fields: the first step names a field, `[i]` picks among repeated ones, and a
 * value that is JSON is walked further (GitHub's and Gitea's form deliveries put it in `payload`).
 */
class FormFields {
  #fields: URLSearchParams
  #decoded = new Map<string, Read>()

  constructor(text: string) {
    this.#fields = new URLSearchParams(text)
  }

  walk(segments: PathSegment[]): Read {
    const [name, next, ...rest] = segments
    if (name === undefined || !('key' in name)) {
      return ABSENT
    }
    const all = this.#fields.getAll(name.key)
    const index = next !== undefined && 'index' in next ? next.index : 0
    const value = all[index]
    const remaining = next !== undefined && 'index' in next ? rest : segments.slice(1)
    if (value === undefined || remaining.length === 0) {
      return value ?? ABSENT
    }
    const key = `${index}:${name.key}`
    if (!this.#decoded.has(key)) {
      this.#decoded.set(key, parseJson(value))
    }
    return walk(this.#decoded.get(key), remaining)
  }
}

function walk(root: Read, segments: PathSegment[]): Read {
  if (root instanceof FormFields) {
    return root.walk(segments)
  }
  let value = root
  for (const segment of segments) {
    if ('index' in segment) {
      value = Array.isArray(value) && segment.index < value.length ? value[segment.index] : ABSENT
    } else {
      // Own keys only: a path `constructor` or `__proto__` must not reach Object.prototype.
      const isObject = typeof value === 'object' && value !== null && !Array.isArray(value)
      const object = isObject ? (value as Record<string, unknown>) : undefined
      value = object && Object.hasOwn(object, segment.key) ? object[segment.key] : ABSENT
    }
    if (value === ABSENT) {
      return ABSENT
    }
  }
  return value
}
