/**
 * A trigger's `match` as people write it: the bounds, the check that names the field at fault,
 * and the body-path grammar (`a.b[0].c`) the evaluator shares.
 */
import { RE2JS } from 're2js'

import {
  type CallMatch,
  MATCH_GROUPS,
  MATCH_OPERATORS,
  MATCH_SOURCES,
  type MatchValue,
} from '../model/index.ts'
import { type FieldPath, isRecord, type ProblemList } from './problems.ts'

/**
 * Every bound is checked when the trigger is created or changed, so what runs on each call is
 * small whatever the caller sends: at most MAX_CONDITIONS reads of the call, each a walk of at
 * most MAX_PATH_SEGMENTS steps or one linear-time regular expression over one value.
 */
export const MATCH_LIMITS = Object.freeze({
  depth: 8,
  conditions: 32,
  nameLength: 128,
  pathLength: 256,
  pathSegments: 32,
  valueLength: 1024,
  inValues: 64,
  regexLength: 200,
})

/** One step of a body path: an object key or a list index. */
export type PathSegment = { key: string } | { index: number }

// Keys are runs of anything but `.`, `[` and `]`; indexes are `[<digits>]`.
const SEGMENT = /\.?([^.[\]]+)|\[(\d{1,6})\]/y
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/

/** `push.changes[0].new.name` → its steps; undefined when it is not a path. */
export function parseBodyPath(path: string): PathSegment[] | undefined {
  const segments: PathSegment[] = []
  SEGMENT.lastIndex = 0
  while (SEGMENT.lastIndex < path.length) {
    const start = SEGMENT.lastIndex
    const step = SEGMENT.exec(path)
    // A leading dot, or a dot before an index, is not a path people write.
    const isKeyWithoutDot = step?.[1] !== undefined && start > 0 && path[start] !== '.'
    if (!step || (start === 0 && path[0] === '.') || isKeyWithoutDot) {
      return undefined
    }
    segments.push(step[1] !== undefined ? { key: step[1] } : { index: Number(step[2]) })
  }
  return segments.length > 0 ? segments : undefined
}

/** The expression compiled on the linear-time RE2 engine, or the error text when it does not. */
export function compileMatchRegex(expression: string): RE2JS | string {
  try {
    return RE2JS.compile(expression)
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error)
    return (
      'is not a valid regular expression for the linear-time RE2 engine ' +
      `(which has no back-references or look-arounds): ${detail}`
    )
  }
}

/** The match as stored (header names lower-cased), or null when absent; problems name the field. */
export function parseCallMatch(input: unknown, problems: ProblemList): CallMatch | null {
  if (input === undefined || input === null) {
    return null
  }
  const counter = { conditions: 0 }
  const before = problems.problems.length
  const match = parseNode(input, ['match'], 1, counter, problems)
  return problems.problems.length > before ? null : match
}

function parseNode(
  input: unknown,
  path: FieldPath,
  depth: number,
  counter: { conditions: number },
  problems: ProblemList,
): CallMatch {
  if (!isRecord(input)) {
    problems.add(
      path,
      'must be an object: a group {"all"|"any": [...], "not": {...}} or a condition ' +
        '{"header"|"query"|"body": "…", "equals"|"in"|"regex"|"exists": …}',
    )
    return {}
  }
  if (depth > MATCH_LIMITS.depth) {
    problems.add(path, `nests deeper than ${MATCH_LIMITS.depth} levels; flatten the groups`)
    return {}
  }
  const keys = Object.keys(input)
  const known: readonly string[] = [...MATCH_GROUPS, ...MATCH_SOURCES, ...MATCH_OPERATORS]
  const unknown = keys.filter((key) => !known.includes(key))
  if (unknown.length > 0) {
    problems.add([...path, unknown[0]!], `is not a match field (known: ${known.join(', ')})`)
    return {}
  }
  const groups = MATCH_GROUPS.filter((key) => key in input)
  if (groups.length === 0) {
    return parseCondition(input, path, counter, problems)
  }
  if (keys.length > groups.length) {
    problems.add(path, 'mixes a group (all, any, not) with a condition; put it inside the group')
    return {}
  }
  const node: CallMatch = {}
  for (const group of ['all', 'any'] as const) {
    const list = input[group]
    if (list === undefined) {
      continue
    }
    if (!Array.isArray(list) || list.length === 0 || list.length > MATCH_LIMITS.conditions) {
      const message = `must be a list of 1 to ${MATCH_LIMITS.conditions} conditions or groups`
      problems.add([...path, group], message)
      continue
    }
    node[group] = list.map((item, index) =>
      parseNode(item, [...path, group, index], depth + 1, counter, problems),
    )
  }
  if (input.not !== undefined) {
    node.not = parseNode(input.not, [...path, 'not'], depth + 1, counter, problems)
  }
  return node
}

function parseCondition(
  input: Record<string, unknown>,
  path: FieldPath,
  counter: { conditions: number },
  problems: ProblemList,
): CallMatch {
  counter.conditions += 1
  if (counter.conditions === MATCH_LIMITS.conditions + 1) {
    const most = MATCH_LIMITS.conditions
    problems.add(path, `is condition ${counter.conditions}; a match holds at most ${most}`)
  }
  const sources = MATCH_SOURCES.filter((key) => key in input)
  const operators = MATCH_OPERATORS.filter((key) => key in input)
  if (sources.length !== 1 || operators.length !== 1) {
    const expected = `one of ${MATCH_SOURCES.join(', ')} and one of ${MATCH_OPERATORS.join(', ')}`
    problems.add(path, `a condition names ${expected}; got ${JSON.stringify(Object.keys(input))}`)
    return {}
  }
  const source = sources[0]!
  const operator = operators[0]!
  const node: CallMatch = {}
  const name = input[source]
  const namePath = [...path, source]
  if (typeof name !== 'string' || name === '') {
    const wanted = source === 'body' ? 'a path such as commits[0].id' : 'a name'
    problems.add(namePath, `must be ${wanted}`)
  } else if (source === 'header') {
    if (name.length > MATCH_LIMITS.nameLength || !HEADER_NAME.test(name)) {
      const message = `must be a header name of at most ${MATCH_LIMITS.nameLength} characters`
      problems.add(namePath, message)
    }
    node.header = name.toLowerCase()
  } else if (source === 'query') {
    if (name.length > MATCH_LIMITS.nameLength) {
      problems.add(namePath, `must be at most ${MATCH_LIMITS.nameLength} characters`)
    }
    node.query = name
  } else {
    const segments = name.length > MATCH_LIMITS.pathLength ? undefined : parseBodyPath(name)
    if (!segments || segments.length > MATCH_LIMITS.pathSegments) {
      const bounds = `${MATCH_LIMITS.pathLength} characters and ${MATCH_LIMITS.pathSegments} steps`
      const shape = 'must be a path of keys and [index] steps, such as commits[0].id,'
      problems.add(namePath, `${shape} of at most ${bounds}`)
    }
    node.body = name
  }
  const value = input[operator]
  const valuePath = [...path, operator]
  if (operator === 'equals') {
    if (checkValue(value, valuePath, problems)) {
      node.equals = value
    }
  } else if (operator === 'in') {
    if (!Array.isArray(value) || value.length === 0 || value.length > MATCH_LIMITS.inValues) {
      problems.add(valuePath, `must be a list of 1 to ${MATCH_LIMITS.inValues} values`)
    } else if (value.every((item, index) => checkValue(item, [...valuePath, index], problems))) {
      node.in = value as MatchValue[]
    }
  } else if (operator === 'regex') {
    if (typeof value !== 'string' || value === '' || value.length > MATCH_LIMITS.regexLength) {
      const message = `must be a regular expression of 1 to ${MATCH_LIMITS.regexLength} characters`
      problems.add(valuePath, message)
    } else {
      const compiled = compileMatchRegex(value)
      if (typeof compiled === 'string') {
        problems.add(valuePath, compiled)
      }
      node.regex = value
    }
  } else if (typeof value !== 'boolean') {
    problems.add(valuePath, 'must be true (the value is there) or false (it is not)')
  } else {
    node.exists = value
  }
  return node
}

function checkValue(value: unknown, path: FieldPath, problems: ProblemList): value is MatchValue {
  const scalar = value === null || ['string', 'number', 'boolean'].includes(typeof value)
  if (!scalar || (typeof value === 'number' && !Number.isFinite(value))) {
    problems.add(path, 'must be a string, number, true, false or null')
    return false
  }
  if (typeof value === 'string' && value.length > MATCH_LIMITS.valueLength) {
    const most = MATCH_LIMITS.valueLength
    problems.add(path, `is ${value.length} characters long; at most ${most} are allowed`)
    return false
  }
  return true
}
