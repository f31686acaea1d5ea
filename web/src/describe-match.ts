// A trigger's `match` in one line people read, as the triggers list shows it:
// `header x-env equals prod and not (body ref matches ^refs/tags/)`.
import { MATCH_OPERATORS, MATCH_SOURCES } from '../../src/model/index.ts'
import type { CallMatch } from './types.ts'

type Value = CallMatch['equals']

function text(value: Value): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function describeCondition(node: CallMatch): string {
  const source = MATCH_SOURCES.find((key) => node[key] !== undefined)
  const operator = MATCH_OPERATORS.find((key) => node[key] !== undefined)
  if (!source || !operator) {
    return 'nothing'
  }
  const what = `${source} ${node[source]}`
  switch (operator) {
    case 'equals':
      return `${what} equals ${text(node.equals)}`
    case 'in':
      return `${what} in ${(node.in ?? []).map(text).join(', ')}`
    case 'regex':
      return `${what} matches ${node.regex}`
    case 'exists':
      return node.exists ? `${what} exists` : `no ${what}`
  }
}

/** `nested` wraps a group of several parts in parentheses, so `and` and `or` read unambiguously. */
export function describeMatch(node: CallMatch, nested = false): string {
  const parts = [
    ...(node.all ? [node.all.map((n) => describeMatch(n, true)).join(' and ')] : []),
    ...(node.any ? [node.any.map((n) => describeMatch(n, true)).join(' or ')] : []),
    ...(node.not ? [`not ${describeMatch(node.not, true)}`] : []),
  ]
  if (parts.length === 0) {
    return describeCondition(node)
  }
  const several = parts.length > 1 || (node.all?.length ?? 0) > 1 || (node.any?.length ?? 0) > 1
  const line = parts.join(' and ')
  return nested && several ? `(${line})` : line
}
