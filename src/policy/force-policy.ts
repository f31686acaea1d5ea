// The `force` tag policy: only the running tag, pulled again (a moved `latest`, a rebuilt tag).
import type { TagDecision, TagPolicy } from './tag-policy.ts'

/**
 * A service whose running tag Deckhand does not know runs `latest`: that is what an image
 * reference without a tag means to Docker, so `latest` is the tag force re-pulls then.
 */
const DEFAULT_TAG = 'latest'

export class ForcePolicy implements TagPolicy {
  readonly text = 'force'

  allows(current: string | null, candidate: string): TagDecision {
    const running = current ?? DEFAULT_TAG
    if (candidate === running) {
      return { ok: true }
    }
    return {
      ok: false,
      reason: `tag ${candidate} is not the running tag ${running}${current === null ? ' (no tag known, so latest)' : ''}; policy force only re-pulls the running tag`,
    }
  }
}
