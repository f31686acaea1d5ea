// A "danger zone": one delete button, a confirmation dialog, then the list page with a notice.
import { type ReactNode, useState } from 'react'

import { errorText, remove } from './api.ts'
import { ConfirmDialog } from './Dialog.tsx'
import { navigate } from './router.tsx'

export function DeleteSection({
  what,
  name,
  apiPath,
  listPath,
  children,
}: {
  what: 'service' | 'stack'
  name: string
  apiPath: string
  listPath: string
  /** What deleting does, said in the section and again in the dialog. */
  children: ReactNode
}) {
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<string>()

  const confirm = async () => {
    setConfirming(false)
    setError(undefined)
    try {
      await remove(apiPath)
      navigate(listPath, `The ${what} ${name} was deleted.`)
    } catch (caught) {
      setError(errorText(caught))
    }
  }

  return (
    <section className="danger-zone" aria-labelledby={`delete-${what}-title`}>
      <h2 id={`delete-${what}-title`}>Delete this {what}</h2>
      <p>{children}</p>
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Delete {what} {name}
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Delete ${what} ${name}?`}
          confirmLabel="Delete"
          onConfirm={() => void confirm()}
          onClose={() => setConfirming(false)}
        >
          <p>{children}</p>
          <p>This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </section>
  )
}
