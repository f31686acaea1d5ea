// A frozen service's banner: until when, why and by whom, and Unfreeze (after a confirmation).
import { useState } from 'react'

import { errorText, remove } from './api.ts'
import { ConfirmDialog } from './Dialog.tsx'
import { formatFromNow, formatFullTime } from './format.ts'
import type { Service } from './types.ts'

export function FreezeBanner({ service, onChanged }: { service: Service; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const freeze = service.freeze
  if (!freeze) {
    return null
  }

  const unfreeze = async () => {
    setConfirming(false)
    setError(undefined)
    setBusy(true)
    try {
      await remove(`/services/${encodeURIComponent(service.name)}/freeze`)
      onChanged()
    } catch (caught) {
      setError(errorText(caught))
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="warning freeze-banner" data-testid="freeze-banner">
      <p>
        <strong>Frozen</strong>{' '}
        {freeze.until === null ? (
          'until unfrozen'
        ) : (
          <>
            until {formatFullTime(freeze.until)} ({formatFromNow(freeze.until)})
          </>
        )}
        : {freeze.message} <span className="muted">— by {freeze.by}</span>
      </p>
      <button
        type="button"
        className="secondary"
        disabled={busy}
        onClick={() => setConfirming(true)}
      >
        Unfreeze
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Unfreeze ${service.name}?`}
          confirmLabel="Unfreeze"
          onConfirm={() => void unfreeze()}
          onClose={() => setConfirming(false)}
        >
          <p>
            Deployments held by the freeze start now, unless a change window of {service.name} still
            holds them. New calls deploy again.
          </p>
        </ConfirmDialog>
      )}
    </div>
  )
}
