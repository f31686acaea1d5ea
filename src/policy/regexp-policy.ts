// The `regexp:<expression>` tag policy: the whole tag must match, and slow patterns are refused.
import type { TagDecision, TagPolicy } from './tag-policy.ts'

const MAX_EXPRESSION_LENGTH = 200

/**
 * Repetitions side by side make backtracking polynomial in the tag length. Measured on Node 24
 * against a 128-character tag that fails at its end: `.*` four times 111 ms, five times 1.7 s,
 * `a*` six times 65 s. Four variable repetitions cover real tag patterns
 * (`v?\d+\.\d+\.\d+(-rc\.\d+)?` has four); optional parts (`?`) cost a factor of two each.
 */
const MAX_VARIABLE_REPETITIONS = 4
const MAX_OPTIONALS = 16

/**
 * JavaScript regular expressions backtrack, so a pattern like `(a+)+$` takes exponential time
 * on a crafted tag, and a tag is attacker-chosen whenever a trigger URL leaks. Tags are at
 * most 128 characters (the image-tag guard runs first), so what is left to refuse is
 * exponential behaviour: a group repeated without bound (`*`, `+`, `{n,}`, `{n,m}` with m > 1)
 * whose inside is itself repeated or has alternatives. Real tag patterns
 * (`v?\d+\.\d+\.\d+(-rc\.\d+)?`, `(main|develop)-[0-9a-f]{7}`) do not need that shape.
 */
function findNestedRepetition(expression: string): string | undefined {
  // For each open group: whether something inside it repeats or alternates.
  const groups: boolean[] = []
  let inClass = false
  for (let i = 0; i < expression.length; i++) {
    const char = expression[i]
    if (char === '\\') {
      i++
      continue
    }
    if (inClass) {
      inClass = char !== ']'
      continue
    }
    if (char === '[') {
      inClass = true
    } else if (char === '(') {
      groups.push(false)
    } else if (char === '|' && groups.length > 0) {
      groups[groups.length - 1] = true
    } else if (char === ')') {
      const risky = groups.pop() ?? false
      const quantifier = /^(?:[*+]|\{\d*,\d*\}|\{\d+\})/.exec(expression.slice(i + 1))?.[0]
      const unbounded =
        quantifier !== undefined &&
        (quantifier === '*' || quantifier === '+' || isWideBrace(quantifier))
      if (risky && unbounded) {
        return expression.slice(0, i + 1 + quantifier.length).slice(-40)
      }
      if (groups.length > 0 && (risky || quantifier !== undefined)) {
        groups[groups.length - 1] = true
      }
    } else if ((char === '*' || char === '+' || char === '{') && groups.length > 0) {
      groups[groups.length - 1] = true
    }
  }
  return undefined
}

/** How many `*`, `+`, `{n,}`, `{n,m}` (m > n) and `?` quantifiers the expression has. */
function countRepetitions(expression: string): { variable: number; optional: number } {
  let variable = 0
  let optional = 0
  let inClass = false
  for (let i = 0; i < expression.length; i++) {
    const char = expression[i]
    const previous = expression[i - 1]
    if (char === '\\') {
      i++
    } else if (inClass) {
      inClass = char !== ']'
    } else if (char === '[') {
      inClass = true
    } else if (char === '*' || char === '+') {
      variable++
    } else if (char === '{') {
      const brace = /^\{(\d+),(\d*)\}/.exec(expression.slice(i))
      if (brace !== null && (brace[2] === '' || Number(brace[2]) > Number(brace[1]))) {
        variable++
      }
    } else if (
      char === '?' &&
      previous !== '(' &&
      previous !== '*' &&
      previous !== '+' &&
      previous !== '}' &&
      previous !== '?'
    ) {
      optional++
    }
  }
  return { variable, optional }
}

function isWideBrace(quantifier: string): boolean {
  const [, low, comma, high] = /^\{(\d*)(,?)(\d*)\}$/.exec(quantifier) ?? []
  if (comma === '') {
    return Number(low) > 1
  }
  return high === '' || Number(high) > 1
}

export class RegexpPolicy implements TagPolicy {
  readonly text: string
  readonly #regexp: RegExp

  private constructor(expression: string, regexp: RegExp) {
    this.text = `regexp:${expression}`
    this.#regexp = regexp
  }

  /** The policy, or the configuration error naming what is wrong with the expression. */
  static parse(expression: string): RegexpPolicy | string {
    if (expression === '') {
      return 'tag policy "regexp:" needs an expression, e.g. regexp:^v\\d+\\.\\d+\\.\\d+$'
    }
    if (expression.length > MAX_EXPRESSION_LENGTH) {
      return `tag policy regular expression is ${expression.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`
    }
    let regexp: RegExp
    try {
      // Anchored on both ends: `regexp:v1` must not take `v10-broken`.
      regexp = new RegExp(`^(?:${expression})$`)
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error)
      return `tag policy ${JSON.stringify(`regexp:${expression}`)} is not a valid regular expression: ${detail}`
    }
    const nested = findNestedRepetition(expression)
    if (nested !== undefined) {
      return `tag policy ${JSON.stringify(`regexp:${expression}`)} repeats a group that itself repeats or alternates (near ${JSON.stringify(nested)}), which can take exponential time; rewrite it without nested repetition`
    }
    const { variable, optional } = countRepetitions(expression)
    if (variable > MAX_VARIABLE_REPETITIONS || optional > MAX_OPTIONALS) {
      return `tag policy ${JSON.stringify(`regexp:${expression}`)} has ${variable} open repetitions (*, +, {n,}, {n,m}) and ${optional} optional parts; at most ${MAX_VARIABLE_REPETITIONS} and ${MAX_OPTIONALS} keep matching fast, so anchor more of it with literal text`
    }
    return new RegexpPolicy(expression, regexp)
  }

  allows(_current: string | null, candidate: string): TagDecision {
    return this.#regexp.test(candidate)
      ? { ok: true }
      : { ok: false, reason: `tag ${candidate} does not match ${this.text}` }
  }
}
