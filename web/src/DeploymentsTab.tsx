// A service's deployment history, refreshed while the tab is open, under a 30-day chart of it.
import { DeploymentChart } from './DeploymentChart.tsx'
import { DeploymentTable } from './DeploymentTable.tsx'
import { Empty } from './StateBadge.tsx'
import type { Deployment, Page } from './types.ts'
import { useApi } from './use-api.ts'

export function DeploymentsTab({ service }: { service: string }) {
  const deployments = useApi<Page<Deployment>>(
    `/deployments?service=${encodeURIComponent(service)}&limit=50`,
    2000,
  )
  // The chart reads one page at the API's limit: past 1,000 deployments in 30 days it shows the
  // latest 1,000 only.
  const history = useApi<Page<Deployment>>(
    `/deployments?service=${encodeURIComponent(service)}&limit=1000`,
    15000,
  )
  if (deployments.error) {
    return (
      <p className="error" role="alert">
        {deployments.error}
      </p>
    )
  }
  if (!deployments.data) {
    return <p className="muted">Loading…</p>
  }
  if (deployments.data.items.length === 0) {
    return (
      <Empty title="No deployments yet">
        Press <strong>Redeploy</strong> above, or call one of this service's trigger URLs; each
        deployment appears here with its live log.
      </Empty>
    )
  }
  return (
    <>
      <DeploymentChart deployments={history.data?.items ?? deployments.data.items} />
      <DeploymentTable items={deployments.data.items} />
    </>
  )
}
