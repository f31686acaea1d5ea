// A held deployment's reason and until when; for it and one awaiting approval, the admin's
// override: Start now, with an optional note for its log (POST …/start).
import { useState } from 'react'

import { errorText, post } from './api.ts'
import { formatFromNow, formatFullTime } from './format.ts'
import type { Deployment, DeploymentHold } from './types.ts'

/** The server's bound on a start's note (src/http/api/holds.ts MAX_NOTE_CHARS); one line. */
const MAX_NOTE_CHARS = 1000

export function HoldPanel({
  deployment,
  onStarted,
}: {
  deployment: Deployment
  onStarted: (after: Deployment) => void
}) {
  const [note, setNote] = useState('')
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  if (deployment.state !== 'held' && deployment.state !== 'awaiting-approval') {
    return null
  }

  const start = async () => {
    setError(undefined)
    setBusy(true)
    try {
      const body = note.trim() === '' ? {} : { note: note.trim() }
      const after = await post<Deployment>(
        `/deployments/${encodeURIComponent(deployment.id)}/start`,
        body,
      )
      setNote('')
      onStarted(after)
    } catch (caught) {
      setError(errorText(caught))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="hold" data-testid="hold">
      {deployment.state === 'held' && deployment.hold && <HoldLine hold={deployment.hold} />}
      <div className="start-form">
        <label>
          Note (optional)
          <input
            value={note}
            maxLength={MAX_NOTE_CHARS}
            autoComplete="off"
            onChange={(e) => setNote(e.target.value)}
          />
        </label>
        <button type="button" disabled={busy} onClick={() => void start()}>
          Start now
        </button>
      </div>
      <p className="hint">
        {deployment.state === 'held'
          ? 'Starts it at once, whatever holds it.'
          : 'Starts it without the approvals it still lacks.'}{' '}
        Its log records who started it and the note.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}

/** "Held until 3 Dec, 18:00 (in 2 hours): frozen: release week", or "Held until unfrozen: …". */
function HoldLine({ hold }: { hold: DeploymentHold }) {
  return (
    <p className="hold-line" data-testid="hold-line">
      <strong>Held</strong>{' '}
      {hold.until === null ? (
        'until unfrozen'
      ) : (
        <>
          until {formatFullTime(hold.until)} ({formatFromNow(hold.until)})
        </>
      )}
      : {hold.reason}
    </p>
  )
}
