// A "frozen" badge for a service whose freeze holds its new deployments; the title says why.
import { formatFullTime } from './format.ts'
import type { ServiceFreeze } from './types.ts'

export function FrozenBadge({ freeze }: { freeze: ServiceFreeze | undefined }) {
  if (!freeze) {
    return null
  }
  const until = freeze.until === null ? 'until unfrozen' : `until ${formatFullTime(freeze.until)}`
  return (
    <span className="badge badge-frozen" data-testid="frozen" title={`${until}: ${freeze.message}`}>
      frozen
    </span>
  )
}
