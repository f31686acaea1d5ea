// A deployment's approvals: the votes so far, and Approve / Reject with a note while it awaits them.
import { useState } from 'react'

import { errorText, post } from './api.ts'
import { formatFullTime } from './format.ts'
import type { Deployment } from './types.ts'

/** The server's bound on a vote's note (src/release/approvals.ts MAX_NOTE_CHARS). */
const MAX_NOTE_CHARS = 500

export function ApprovalPanel({
  deployment,
  onVoted,
}: {
  deployment: Deployment
  onVoted: (after: Deployment) => void
}) {
  const [note, setNote] = useState('')
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const approvals = deployment.approvals
  if (!approvals) {
    return null
  }
  const awaiting = deployment.state === 'awaiting-approval'
  const approved = approvals.votes.filter((v) => v.vote === 'approve').length

  const vote = async (verb: 'approve' | 'reject') => {
    setError(undefined)
    setBusy(true)
    try {
      const body = note.trim() === '' ? {} : { note: note.trim() }
      const after = await post<Deployment>(
        `/deployments/${encodeURIComponent(deployment.id)}/${verb}`,
        body,
      )
      setNote('')
      onVoted(after)
    } catch (caught) {
      setError(errorText(caught))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="approvals" data-testid="approvals">
      <h2>Approvals</h2>
      <p>
        {approved}
        {approvals.required !== null && ` of ${approvals.required}`} approvals
        {awaiting && approvals.deadline && (
          <> · canceled unless approved by {formatFullTime(approvals.deadline)}</>
        )}
      </p>
      {approvals.votes.length > 0 && (
        <ul className="votes">
          {approvals.votes.map((v) => (
            <li key={`${v.by}-${v.at}`} data-vote={v.vote}>
              <strong>{v.vote === 'approve' ? 'Approved' : 'Rejected'}</strong> by {v.by} ·{' '}
              {formatFullTime(v.at)}
              {v.note && <> · “{v.note}”</>}
            </li>
          ))}
        </ul>
      )}
      {awaiting && (
        <div className="vote-form">
          <label>
            Note (optional)
            <textarea
              value={note}
              maxLength={MAX_NOTE_CHARS}
              rows={2}
              onChange={(e) => setNote(e.target.value)}
            />
          </label>
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void vote('approve')}>
              Approve
            </button>
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() => void vote('reject')}
            >
              Reject
            </button>
          </div>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
