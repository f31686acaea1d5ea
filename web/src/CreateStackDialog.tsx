// The create-stack dialog: a name and a checkbox per existing service.
import { useState, type FormEvent } from 'react'
import { ApiError, errorText, post } from './api.ts'
import { Dialog } from './Dialog.tsx'
import { Field, sortProblems } from './Field.tsx'
import { Link } from './router.tsx'
import type { Page, Service } from './types.ts'
import { useApi } from './use-api.ts'

export function CreateStackDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void
  onCreated: (name: string) => void
}) {
  const services = useApi<Page<Service>>('/services?limit=1000')
  const [name, setName] = useState('')
  const [chosen, setChosen] = useState<string[]>([])
  const [byField, setByField] = useState<Record<string, string>>({})
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)

  const toggle = (service: string, on: boolean) =>
    setChosen((list) => (on ? [...list, service] : list.filter((s) => s !== service)))

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (chosen.length === 0) {
      setByField({ services: 'choose at least one service' })
      return
    }
    setBusy(true)
    try {
      const created = await post<{ name: string }>('/stacks', {
        name: name.trim(),
        services: chosen,
      })
      onCreated(created.name)
    } catch (caught) {
      const sorted = sortProblems(caught instanceof ApiError ? caught.problems : [], [
        'name',
        'services',
      ])
      setByField(sorted.byField)
      const unplaced = Object.keys(sorted.byField).length === 0 && sorted.others.length === 0
      setError(unplaced ? errorText(caught) : sorted.others.join('; ') || undefined)
      setBusy(false)
    }
  }

  const items = services.data?.items ?? []
  return (
    <Dialog title="Create a stack" onClose={onClose}>
      <form onSubmit={submit} className="stack" noValidate>
        <Field
          id="stack-name"
          label="Name"
          hint="lower-case letters, digits, - _ ."
          error={byField.name}
        >
          <input
            id="stack-name"
            value={name}
            spellCheck={false}
            autoComplete="off"
            onChange={(e) => setName(e.target.value)}
            autoFocus
          />
        </Field>
        <fieldset aria-describedby={byField.services ? 'stack-services-error' : undefined}>
          <legend>Services</legend>
          {services.data && items.length === 0 && (
            <p className="muted">
              There are no services to group yet. <Link to="/new-service">Create a service</Link>{' '}
              first.
            </p>
          )}
          <div className="checks">
            {items.map((s) => (
              <label key={s.name} className="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(s.name)}
                  onChange={(e) => toggle(s.name, e.target.checked)}
                />
                {s.name} <span className="muted">({s.driver})</span>
              </label>
            ))}
          </div>
          {byField.services && (
            <p id="stack-services-error" className="field-error">
              {byField.services}
            </p>
          )}
        </fieldset>
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
            {busy ? 'Creating…' : 'Create stack'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
