// An "awaiting approval" badge for a service with a deployment waiting for votes, linking to it.
import { Link } from './router.tsx'
import type { Deployment, Page } from './types.ts'
import { useApi } from './use-api.ts'

export function AwaitingApproval({
  service,
  intervalMs = 5000,
}: {
  service: string
  intervalMs?: number
}) {
  const path = `/deployments?service=${encodeURIComponent(service)}&state=awaiting-approval&limit=1`
  const awaiting = useApi<Page<Deployment>>(path, intervalMs).data?.items[0]
  if (!awaiting) {
    return null
  }
  return (
    <span data-testid="awaiting-approval">
      <Link to={`/deployments/${awaiting.id}`} className="plain">
        <span className="badge badge-awaiting-approval">awaiting approval</span>
      </Link>
    </span>
  )
}
