// Freeze a service: a button and its dialog asking until when (a duration, an ISO time or no end)
// and why; the API's problems appear under the field they name.
import { type FormEvent, useState } from 'react'

import { ApiError, errorText, post } from './api.ts'
import { Dialog } from './Dialog.tsx'
import { Field, sortProblems } from './Field.tsx'
import type { Service } from './types.ts'

/** The server's bounds (src/http/api/holds.ts freezeBody; src/release/freeze.ts). */
const MAX_UNTIL_CHARS = 40
const MAX_MESSAGE_CHARS = 500

export function FreezeAction({ service, onChanged }: { service: Service; onChanged: () => void }) {
  const [open, setOpen] = useState(false)
  if (service.freeze) {
    return null
  }
  return (
    <>
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Freeze…
      </button>
      {open && (
        <FreezeDialog
          name={service.name}
          onClose={() => setOpen(false)}
          onFrozen={() => {
            setOpen(false)
            onChanged()
          }}
        />
      )}
    </>
  )
}

function FreezeDialog({
  name,
  onClose,
  onFrozen,
}: {
  name: string
  onClose: () => void
  onFrozen: () => void
}) {
  const [until, setUntil] = useState('')
  const [message, setMessage] = useState('')
  const [byField, setByField] = useState<Record<string, string>>({})
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setByField({})
    setError(undefined)
    try {
      await post(`/services/${encodeURIComponent(name)}/freeze`, {
        until: until.trim() === '' ? null : until.trim(),
        // Left out when blank: the server says "frozen".
        ...(message.trim() === '' ? {} : { message: message.trim() }),
      })
      onFrozen()
    } catch (caught) {
      const sorted = sortProblems(caught instanceof ApiError ? caught.problems : [], [
        'until',
        'message',
      ])
      setByField(sorted.byField)
      const unplaced = Object.keys(sorted.byField).length === 0 && sorted.others.length === 0
      setError(unplaced ? errorText(caught) : sorted.others.join('; ') || undefined)
      setBusy(false)
    }
  }

  return (
    <Dialog title={`Freeze ${name}`} onClose={onClose}>
      <form onSubmit={submit} className="freeze-form" noValidate>
        <p className="muted">
          New deployments of {name} wait as held until the freeze ends; calls are still recorded and
          answered 202 held with the message.
        </p>
        <Field
          id="freeze-until"
          label="Until"
          hint="a duration (2h, 3d), an ISO time with its zone, or empty: until unfrozen"
          error={byField.until}
        >
          <input
            id="freeze-until"
            value={until}
            maxLength={MAX_UNTIL_CHARS}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setUntil(e.target.value)}
            autoFocus
          />
        </Field>
        <Field
          id="freeze-message"
          label="Message"
          hint="why; shown on the service and in every held call's answer"
          error={byField.message}
        >
          <input
            id="freeze-message"
            value={message}
            maxLength={MAX_MESSAGE_CHARS}
            autoComplete="off"
            onChange={(e) => setMessage(e.target.value)}
          />
        </Field>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="buttons">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Freezing…' : 'Freeze'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
