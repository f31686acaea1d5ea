// A service's deployment history, refreshed while the tab is open.
import { DeploymentTable } from './DeploymentTable.tsx'
import { Empty } from './StateBadge.tsx'
import type { Deployment, Page } from './types.ts'
import { useApi } from './use-api.ts'

export function DeploymentsTab({ service }: { service: string }) {
  const deployments = useApi<Page<Deployment>>(`/deployments?service=${encodeURIComponent(service)}&limit=50`, 2000)
  if (deployments.error) {
    return <p className="error" role="alert">{deployments.error}</p>
  }
  if (!deployments.data) {
    return <p className="muted">Loading…</p>
  }
  if (deployments.data.items.length === 0) {
    return (
      <Empty title="No deployments yet">
        Press <strong>Redeploy</strong> above, or call one of this service's trigger URLs; each deployment appears here
        with its live log.
      </Empty>
    )
  }
  return <DeploymentTable items={deployments.data.items} />
}
