// A service's latest deployment as a badge linking to it, kept fresh; used in service lists.
import { formatTime } from './format.ts'
import { Link } from './router.tsx'
import { StateBadge } from './StateBadge.tsx'
import type { Deployment, Page } from './types.ts'
import { useApi } from './use-api.ts'

export function LastDeployment({
  service,
  intervalMs = 5000,
}: {
  service: string
  intervalMs?: number
}) {
  const path = `/deployments?service=${encodeURIComponent(service)}&limit=1`
  const last = useApi<Page<Deployment>>(path, intervalMs)
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
