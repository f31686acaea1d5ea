// Deployment history as a table: state, action, tag, calls coalesced, times and duration.
import { formatDuration, formatTime } from './format.ts'
import { Link } from './router.tsx'
import { StateBadge } from './StateBadge.tsx'
import type { Deployment } from './types.ts'

function describeParams(d: Deployment): string {
  if (d.params.tag) {
    return d.params.tag
  }
  if (d.params.replicas !== undefined) {
    return `→ ${d.params.replicas} replicas`
  }
  if (d.params.by !== undefined) {
    return `${d.params.by > 0 ? '+' : ''}${d.params.by} replicas`
  }
  return '—'
}

export function DeploymentTable({
  items,
  showService = false,
}: {
  items: Deployment[]
  showService?: boolean
}) {
  return (
    <div className="table-wrap">
      <table className="stacked" aria-label="Deployments">
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            {showService && <th scope="col">Service</th>}
            <th scope="col">State</th>
            <th scope="col">Action</th>
            <th scope="col">Tag / replicas</th>
            <th scope="col">Calls</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id} data-deployment={d.id}>
              <td data-label="Deployment">
                <Link to={`/deployments/${d.id}`}>{d.id}</Link>
              </td>
              {showService && <td data-label="Service">{d.service}</td>}
              <td data-label="State">
                <StateBadge state={d.state} />
              </td>
              <td data-label="Action">{d.action}</td>
              <td data-label="Tag / replicas">{describeParams(d)}</td>
              <td data-label="Calls" title="calls coalesced into this deployment">
                {d.calls}
              </td>
              <td data-label="Created">{formatTime(d.createdAt)}</td>
              <td data-label="Duration">{formatDuration(d.startedAt, d.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
