// What runs now, one row per instance as the driver reports it: a table on a laptop, cards on a phone.
import { formatTime } from './format.ts'
import type { Instance } from './types.ts'

/** The instance's own health verdict, else its state (a process replica has no check of its own). */
function healthText(item: Instance): string {
  return item.health ? `${item.state}, ${item.health}` : item.state
}

export function InstancesTable({ items, detail }: { items: Instance[]; detail?: string }) {
  if (items.length === 0) {
    return (
      <p className="muted" data-testid="no-instances">
        {detail
          ? `No instances to show: ${detail.replace(/\.$/, '')}.`
          : 'The driver reports no instances.'}
      </p>
    )
  }
  return (
    <div className="table-wrap">
      <table className="stacked" aria-label="Instances">
        <thead>
          <tr>
            <th scope="col">Replica</th>
            <th scope="col">Pid / container</th>
            <th scope="col">Port</th>
            <th scope="col">Health</th>
            <th scope="col">Restarts</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id} data-instance={item.id} title={item.detail}>
              <td data-label="Replica">{item.id}</td>
              <td data-label="Pid / container">
                <span className="mono">{item.pid ?? item.container ?? '—'}</span>
              </td>
              <td data-label="Port">{item.port ?? '—'}</td>
              <td data-label="Health">
                <span className={item.state === 'running' ? undefined : 'error'}>
                  {healthText(item)}
                </span>
              </td>
              <td data-label="Restarts">{item.restarts ?? 0}</td>
              <td data-label="Started">{formatTime(item.startedAt ?? null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
