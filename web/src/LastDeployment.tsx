// A service's latest deployment as a badge linking to it, kept fresh; used in service lists and,
// following the service's event stream, in the service page's header.
import { formatTime } from './format.ts'
import { Link } from './router.tsx'
import { StateBadge } from './StateBadge.tsx'
import type { Deployment, Page } from './types.ts'
import { useApi } from './use-api.ts'
import { LIVE_POLL_MS, useServiceEvents } from './use-service-events.ts'

export function LastDeployment({
  service,
  intervalMs = 5000,
  live: follow = false,
}: {
  service: string
  intervalMs?: number
  /** Re-read on the service's deployment events (one stream each: not for long lists). */
  live?: boolean
}) {
  const path = `/deployments?service=${encodeURIComponent(service)}&limit=1`
  const { live, changes } = useServiceEvents(follow ? service : null, 'deployment')
  const last = useApi<Page<Deployment>>(path, live ? LIVE_POLL_MS : intervalMs, changes)
  const deployment = last.data?.items[0]
  if (!deployment) {
    return <span className="muted">{last.data ? 'never deployed' : ''}</span>
  }
  return (
    <span data-deployment={deployment.id}>
      <Link to={`/deployments/${deployment.id}`} className="plain">
        <StateBadge state={deployment.state} />{' '}
        {formatTime(deployment.finishedAt ?? deployment.createdAt)}
      </Link>
    </span>
  )
}
