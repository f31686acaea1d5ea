/**
 * Which tag of a repository a watch with a tag policy moves to: the newest the policy allows.
 * Registries list tags without dates, so "newest" is by version: semver precedence first (any
 * semver tag is newer than a tag that is not), then digit runs compared as numbers
 * (`build-10` after `build-9`), then text.
 */
import { compareSemver, parseSemver } from '../policy/semver-policy.ts'
import type { TagPolicy } from '../policy/tag-policy.ts'

const collator = new Intl.Collator('en', { numeric: true })

/** Negative when `a` is older than `b`, 0 when they order the same. */
export function compareTags(a: string, b: string): number {
  const [va, vb] = [parseSemver(a), parseSemver(b)]
  if (va && vb) {
    return compareSemver(va, vb) || collator.compare(a, b)
  }
  if (va || vb) {
    return va ? 1 : -1
  }
  return collator.compare(a, b)
}

/**
 * The newest of `tags` that `policy` allows moving to from `current` and that is newer than it
 * (any allowed tag when the running one is not known), or undefined when there is none.
 */
export function newestAllowedTag(
  tags: readonly string[],
  current: string | null,
  policy: TagPolicy,
): string | undefined {
  let newest: string | undefined
  for (const tag of tags) {
    if (tag === current || (current !== null && compareTags(tag, current) <= 0)) {
      continue
    }
    if ((newest === undefined || compareTags(tag, newest) > 0) && policy.allows(current, tag).ok) {
      newest = tag
    }
  }
  return newest
}
