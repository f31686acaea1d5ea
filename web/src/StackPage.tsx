// One stack: its services with their latest deployments (and a dialog to change them), its
// triggers, and delete.
import { useState } from 'react'

import { DeleteSection } from './DeleteSection.tsx'
import { LastDeployment } from './LastDeployment.tsx'
import { PageHead } from './PageHead.tsx'
import { Link, useFlash } from './router.tsx'
import { StackDialog } from './StackDialog.tsx'
import { TriggersTab } from './TriggersTab.tsx'
import type { Stack } from './types.ts'
import { useApi } from './use-api.ts'

export function StackPage({ name }: { name: string }) {
  const stack = useApi<Stack>(`/stacks/${encodeURIComponent(name)}`, 5000)
  const flash = useFlash()
  const services = stack.data?.services
  const [editing, setEditing] = useState(false)
  return (
    <section>
      <PageHead
        parent={{ to: '/stacks', label: 'Stacks' }}
        name={name}
        flash={flash}
        error={stack.error}
      />
      {services && (
        <>
          <div className="section-head">
            <h2 id="stack-services">Services</h2>
            <button type="button" className="secondary" onClick={() => setEditing(true)}>
              Change services
            </button>
          </div>
          <div className="table-wrap">
            <table aria-labelledby="stack-services">
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Last deployment</th>
                </tr>
              </thead>
              <tbody>
                {services.map((service) => (
                  <tr key={service} data-service={service}>
                    <td>
                      <Link to={`/services/${encodeURIComponent(service)}/deployments`}>
                        {service}
                      </Link>
                    </td>
                    <td>
                      <LastDeployment service={service} intervalMs={2000} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {editing && stack.data && (
            <StackDialog
              stack={stack.data}
              onClose={() => setEditing(false)}
              onSaved={() => {
                setEditing(false)
                stack.reload()
              }}
            />
          )}
          <h2>Triggers</h2>
          <TriggersTab owner={{ kind: 'stacks', name }} members={services} />
          <DeleteSection
            what="stack"
            name={name}
            apiPath={`/stacks/${encodeURIComponent(name)}`}
            listPath="/stacks"
          >
            Its trigger URLs stop working. Its services keep running and keep their own triggers.
          </DeleteSection>
        </>
      )}
    </section>
  )
}
