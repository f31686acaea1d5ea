// The services list: driver, replicas and the last deployment of each, and the way to create one.
import { AwaitingApproval } from './AwaitingApproval.tsx'
import { FrozenBadge } from './FrozenBadge.tsx'
import { LastDeployment } from './LastDeployment.tsx'
import { ReadyCount } from './ReadyCount.tsx'
import { Link, useFlash } from './router.tsx'
import { Empty } from './StateBadge.tsx'
import type { Page, Service } from './types.ts'
import { useApi } from './use-api.ts'

export function ServicesPage() {
  const services = useApi<Page<Service>>('/services?limit=1000', 5000)
  const flash = useFlash()
  return (
    <section>
      <div className="page-head">
        <h1>Services</h1>
        <Link to="/new-service" className="button">
          Create service
        </Link>
      </div>
      {flash && (
        <p className="notice" role="status">
          {flash}
        </p>
      )}
      {services.error && (
        <p className="error" role="alert">
          {services.error}
        </p>
      )}
      {!services.data && !services.error && <p className="muted">Loading…</p>}
      {services.data && services.data.items.length === 0 && (
        <Empty title="No services yet">
          A service is what Deckhand deploys: local processes, a shell command, containers or a
          Kubernetes workload. <Link to="/new-service">Create your first service</Link>, then add a
          trigger URL for your CI or registry to call. (<code>deckhand service add</code>,{' '}
          <code>deckhand.yaml</code> and <code>POST /api/v1/services</code> work too.)
        </Empty>
      )}
      {services.data && services.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="stacked" aria-label="Services">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Driver</th>
                <th scope="col">Ready</th>
                <th scope="col">Replicas</th>
                <th scope="col">Last deployment</th>
              </tr>
            </thead>
            <tbody>
              {services.data.items.map((service) => (
                <tr key={service.name}>
                  <td data-label="Service">
                    {/* One item: a phone's stacked row keeps the badges beside the name. */}
                    <span>
                      <Link to={`/services/${encodeURIComponent(service.name)}`}>
                        {service.name}
                      </Link>{' '}
                      <AwaitingApproval service={service.name} />{' '}
                      <FrozenBadge freeze={service.freeze} />
                    </span>
                  </td>
                  <td data-label="Driver">{service.driver}</td>
                  <td data-label="Ready">
                    <ReadyCount service={service.name} />
                  </td>
                  <td data-label="Replicas">{service.replicas ?? 'set by the runtime'}</td>
                  <td data-label="Last deployment">
                    <LastDeployment service={service.name} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
