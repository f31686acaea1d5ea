// The audit trail: every call to a trigger URL, filtered by trigger and outcome.
import { useState } from 'react'
import { formatTime } from './format.ts'
import { Link } from './router.tsx'
import { Empty, StateBadge } from './StateBadge.tsx'
import { CALL_OUTCOMES, type Call, type Page } from './types.ts'
import { useApi } from './use-api.ts'

export function CallsPage() {
  const [trigger, setTrigger] = useState('')
  const [outcome, setOutcome] = useState('')
  const query = new URLSearchParams({ limit: '100' })
  if (trigger.trim()) {
    query.set('trigger', trigger.trim())
  }
  if (outcome) {
    query.set('outcome', outcome)
  }
  const calls = useApi<Page<Call>>(`/calls?${query}`, 3000)
  const filtered = Boolean(trigger.trim() || outcome)

  return (
    <section>
      <h1>Calls</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter calls">
        <div className="field">
          <label htmlFor="calls-trigger">Trigger id</label>
          <input id="calls-trigger" value={trigger} onChange={(e) => setTrigger(e.target.value)} placeholder="trg_…" spellCheck={false} />
        </div>
        <div className="field">
          <label htmlFor="calls-outcome">Outcome</label>
          <select id="calls-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">any</option>
            {CALL_OUTCOMES.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </div>
      </form>
      {calls.error && <p className="error" role="alert">{calls.error}</p>}
      {!calls.data && !calls.error && <p className="muted">Loading…</p>}
      {calls.data && calls.data.items.length === 0 && (
        <Empty title={filtered ? 'No calls match these filters' : 'No calls yet'}>
          {filtered
            ? 'Clear the filters to see every call.'
            : 'Every call to a trigger URL is recorded here, refused ones included. Add a trigger on a service page and call its URL.'}
        </Empty>
      )}
      {calls.data && calls.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Outcome</th>
                <th scope="col">Status</th>
                <th scope="col">Sender</th>
                <th scope="col">Trigger</th>
                <th scope="col">From</th>
                <th scope="col">Reason</th>
                <th scope="col">Deployments</th>
              </tr>
            </thead>
            <tbody>
              {calls.data.items.map((c) => (
                <tr key={c.id}>
                  <td>{formatTime(c.receivedAt)}</td>
                  <td>
                    <StateBadge state={c.outcome} />
                  </td>
                  <td>{c.status}</td>
                  <td>{c.sender ?? '—'}</td>
                  <td className="mono">{c.triggerId ?? '—'}</td>
                  <td>{c.remoteAddress ?? '—'}</td>
                  <td>{c.reason ?? '—'}</td>
                  <td>
                    {c.deploymentIds.length === 0
                      ? '—'
                      : c.deploymentIds.map((id) => (
                          <Link key={id} to={`/deployments/${id}`} className="mono block">
                            {id}
                          </Link>
                        ))}
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
