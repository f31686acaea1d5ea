// The stacks list: each stack's services, and a dialog to group existing services into a new one.
import { useState } from 'react'

import { formatTime } from './format.ts'
import { Link, navigate, useFlash } from './router.tsx'
import { StackDialog } from './StackDialog.tsx'
import { Empty } from './StateBadge.tsx'
import type { Page, Stack } from './types.ts'
import { useApi } from './use-api.ts'

export function StacksPage() {
  const stacks = useApi<Page<Stack>>('/stacks?limit=1000', 5000)
  const flash = useFlash()
  const [creating, setCreating] = useState(false)
  return (
    <section>
      <div className="page-head">
        <h1>Stacks</h1>
        <button type="button" onClick={() => setCreating(true)}>
          Create stack
        </button>
      </div>
      {flash && (
        <p className="notice" role="status">
          {flash}
        </p>
      )}
      {stacks.error && (
        <p className="error" role="alert">
          {stacks.error}
        </p>
      )}
      {!stacks.data && !stacks.error && <p className="muted">Loading…</p>}
      {stacks.data && stacks.data.items.length === 0 && (
        <Empty title="No stacks yet">
          A stack groups services so that one trigger URL redeploys them together, or only some of
          them with <code>?services=</code>. Press <strong>Create stack</strong> to group services
          you already have.
        </Empty>
      )}
      {stacks.data && stacks.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Stack</th>
                <th scope="col">Services</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {stacks.data.items.map((stack) => (
                <tr key={stack.name}>
                  <td>
                    <Link to={`/stacks/${encodeURIComponent(stack.name)}`}>{stack.name}</Link>
                  </td>
                  <td className="wrap">{stack.services.join(', ')}</td>
                  <td>{formatTime(stack.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && (
        <StackDialog
          onClose={() => setCreating(false)}
          onSaved={(name) =>
            navigate(`/stacks/${encodeURIComponent(name)}`, `Stack ${name} was created.`)
          }
        />
      )}
    </section>
  )
}
