// The `regexp:<expression>` tag policy: the whole tag must match, on a linear-time engine.
import { RE2JS } from 're2js'

import type { TagDecision, TagPolicy } from './tag-policy.ts'

const MAX_EXPRESSION_LENGTH = 200

export class RegexpPolicy implements TagPolicy {
  readonly text: string
  readonly #regexp: RE2JS

  private constructor(expression: string, regexp: RE2JS) {
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
    let regexp: RE2JS
    try {
      // RE2 semantics: matching time is linear in the tag whatever the expression, because a tag
      // is attacker-chosen whenever a trigger URL leaks. Back-references and look-arounds, which
      // need backtracking, do not compile and are refused here, at creation.
      regexp = RE2JS.compile(expression)
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error)
      return `tag policy ${JSON.stringify(`regexp:${expression}`)} is not a valid regular expression for the linear-time RE2 engine (which has no back-references or look-arounds): ${detail}`
    }
    return new RegexpPolicy(expression, regexp)
  }

  allows(_current: string | null, candidate: string): TagDecision {
    // `matches` is anchored on both ends: `regexp:v1` must not take `v10-broken`.
    return this.#regexp.matches(candidate)
      ? { ok: true }
      : { ok: false, reason: `tag ${candidate} does not match ${this.text}` }
  }
}
