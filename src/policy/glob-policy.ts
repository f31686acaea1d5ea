// The `glob:<pattern>` tag policy: `*` is any run of characters, `?` any one, the rest literal.
import type { TagDecision, TagPolicy } from './tag-policy.ts'

const MAX_PATTERN_LENGTH = 256

/**
 * Whole-string wildcard match in O(pattern × tag) at worst, with no backtracking blow-up:
 * on a mismatch only the position after the last `*` is retried.
 */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0
  let t = 0
  let starAt = -1
  let starText = 0
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++
      t++
    } else if (p < pattern.length && pattern[p] === '*') {
      starAt = p++
      starText = t
    } else if (starAt !== -1) {
      p = starAt + 1
      t = ++starText
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern[p] === '*') {
    p++
  }
  return p === pattern.length
}

export class GlobPolicy implements TagPolicy {
  readonly text: string
  readonly #pattern: string

  private constructor(pattern: string) {
    this.#pattern = pattern
    this.text = `glob:${pattern}`
  }

  /** The policy, or the configuration error. */
  static parse(pattern: string): GlobPolicy | string {
    if (pattern === '') {
      return 'tag policy "glob:" needs a pattern, e.g. glob:release-*'
    }
    if (pattern.length > MAX_PATTERN_LENGTH) {
      return `tag policy glob pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`
    }
    return new GlobPolicy(pattern)
  }

  allows(_current: string | null, candidate: string): TagDecision {
    return globMatches(this.#pattern, candidate)
      ? { ok: true }
      : { ok: false, reason: `tag ${candidate} does not match ${this.text}` }
  }
}
