// The audit trail: every call to a trigger URL, filtered by trigger and outcome.
import { useState } from 'react'

import { CALL_OUTCOMES } from '../../src/model/index.ts'
import { formatFullTime } from './format.ts'
import { Link } from './router.tsx'
import { Empty, StateBadge } from './StateBadge.tsx'
import type { Call, Page } from './types.ts'
import { useApi } from './use-api.ts'

export function CallsPage() {
  // A deployment page links here with ?trigger=, to show the calls of its trigger.
  const [trigger, setTrigger] = useState(
    () => new URLSearchParams(location.search).get('trigger') ?? '',
  )
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
          <input
            id="calls-trigger"
            value={trigger}
            onChange={(e) => setTrigger(e.target.value)}
            placeholder="trg_…"
            spellCheck={false}
          />
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
      {calls.error && (
        <p className="error" role="alert">
          {calls.error}
        </p>
      )}
      {!calls.data && !calls.error && <p className="muted">Loading…</p>}
      {calls.data && calls.data.items.length === 0 && (
        <Empty title={filtered ? 'No calls match these filters' : 'No calls yet'}>
          {filtered
            ? 'Clear the filters to see every call.'
            : "Every call to a live trigger URL is recorded here, refused ones included (a bad signature, an address not allowed, a body not in the sender's format). Calls to an unknown or revoked URL (404), over the rate limit (429) or too large (413) are not recorded: the server log has them. Add a trigger on a service page and call its URL."}
        </Empty>
      )}
      {calls.data && calls.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="stacked calls" aria-label="Calls">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Outcome</th>
                <th scope="col">Trigger</th>
                <th scope="col">Service</th>
                <th scope="col">Sender</th>
                <th scope="col">From</th>
                <th scope="col">Reason</th>
                <th scope="col">Deployments</th>
              </tr>
            </thead>
            <tbody>
              {calls.data.items.map((c) => (
                <tr key={c.id} data-call={c.id}>
                  <td data-label="Received">{formatFullTime(c.receivedAt)}</td>
                  <td data-label="Outcome">
                    <StateBadge state={c.outcome} /> <span className="muted">{c.status}</span>
                  </td>
                  <td data-label="Trigger">
                    <span className="stack-lines">
                      {c.triggerName && <span>{c.triggerName}</span>}
                      <span className="mono small muted">{c.triggerId ?? '—'}</span>
                    </span>
                  </td>
                  <td data-label="Service">
                    {c.service ? (
                      <Link to={`/services/${encodeURIComponent(c.service)}`}>{c.service}</Link>
                    ) : c.stack ? (
                      <Link to={`/stacks/${encodeURIComponent(c.stack)}`}>stack {c.stack}</Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td data-label="Sender">{c.sender ?? '—'}</td>
                  <td data-label="From">{c.remoteAddress ?? '—'}</td>
                  <td data-label="Reason" className="wrap">
                    {c.reason ?? '—'}
                  </td>
                  <td data-label="Deployments">
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
