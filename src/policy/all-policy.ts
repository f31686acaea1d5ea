// The `all` tag policy: any valid tag is taken.
import type { TagDecision, TagPolicy } from './tag-policy.ts'

export class AllPolicy implements TagPolicy {
  readonly text = 'all'

  allows(_current: string | null, _candidate: string): TagDecision {
    return { ok: true }
  }
}
