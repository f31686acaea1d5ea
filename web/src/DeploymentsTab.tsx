// A service's deployment history, refreshed live while the tab is open, under a 30-day chart of it.
import { DeploymentChart } from './DeploymentChart.tsx'
import { DeploymentTable } from './DeploymentTable.tsx'
import { Empty } from './StateBadge.tsx'
import type { Deployment, Page } from './types.ts'
import { useApi } from './use-api.ts'
import { LIVE_POLL_MS, useServiceEvents } from './use-service-events.ts'

export function DeploymentsTab({ service }: { service: string }) {
  // Re-read when the service's event stream names a deployment; polled every 2 s without one.
  const { live, changes } = useServiceEvents(service, 'deployment')
  const deployments = useApi<Page<Deployment>>(
    `/deployments?service=${encodeURIComponent(service)}&limit=50`,
    live ? LIVE_POLL_MS : 2000,
    changes,
  )
  // The chart reads one page at the API's limit: past 1,000 deployments in 30 days it shows the
  // latest 1,000 only.
  const history = useApi<Page<Deployment>>(
    `/deployments?service=${encodeURIComponent(service)}&limit=1000`,
    live ? LIVE_POLL_MS : 15000,
    changes,
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
    <div data-live={live}>
      <DeploymentChart deployments={history.data?.items ?? deployments.data.items} />
      <DeploymentTable items={deployments.data.items} />
    </div>
  )
}
