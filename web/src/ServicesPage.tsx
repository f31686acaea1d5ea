// The services list: driver, replicas and the last deployment of each.
import { Link } from './router.tsx'
import { Empty, StateBadge } from './StateBadge.tsx'
import { formatTime } from './format.ts'
import type { Deployment, Page, Service } from './types.ts'
import { useApi } from './use-api.ts'

export function ServicesPage() {
  const services = useApi<Page<Service>>('/services?limit=1000', 5000)
  return (
    <section>
      <h1>Services</h1>
      {services.error && <p className="error" role="alert">{services.error}</p>}
      {!services.data && !services.error && <p className="muted">Loading…</p>}
      {services.data && services.data.items.length === 0 && (
        <Empty title="No services yet">
          A service is what Deckhand deploys. Create one with <code>deckhand service create</code>, in{' '}
          <code>deckhand.yaml</code>, or with <code>POST /api/v1/services</code>; it appears here, and then you can add a
          trigger URL for your CI or registry to call.
        </Empty>
      )}
      {services.data && services.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Driver</th>
                <th scope="col">Replicas</th>
                <th scope="col">Last deployment</th>
              </tr>
            </thead>
            <tbody>
              {services.data.items.map((service) => (
                <ServiceRow key={service.name} service={service} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

function ServiceRow({ service }: { service: Service }) {
  const last = useApi<Page<Deployment>>(`/deployments?service=${encodeURIComponent(service.name)}&limit=1`, 5000)
  const deployment = last.data?.items[0]
  return (
    <tr>
      <td>
        <Link to={`/services/${encodeURIComponent(service.name)}`}>{service.name}</Link>
      </td>
      <td>{service.driver}</td>
      <td>{service.replicas ?? 'set by the runtime'}</td>
      <td>
        {deployment ? (
          <Link to={`/deployments/${deployment.id}`} className="plain">
            <StateBadge state={deployment.state} /> {formatTime(deployment.finishedAt ?? deployment.createdAt)}
          </Link>
        ) : (
          <span className="muted">{last.data ? 'never deployed' : ''}</span>
        )}
      </td>
    </tr>
  )
}
