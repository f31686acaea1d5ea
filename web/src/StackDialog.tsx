// Create a stack, or change which services one groups: a name and a checkbox per service.
import { type FormEvent, useState } from 'react'

import { ApiError, errorText, patch, post } from './api.ts'
import { Dialog } from './Dialog.tsx'
import { Field, sortProblems } from './Field.tsx'
import { Link } from './router.tsx'
import type { Page, Service, Stack } from './types.ts'
import { useApi } from './use-api.ts'

/** Without `stack` it creates one; with it, it saves a new member list as a merge patch. */
export function StackDialog({
  stack,
  onClose,
  onSaved,
}: {
  stack?: Stack
  onClose: () => void
  onSaved: (name: string) => void
}) {
  const services = useApi<Page<Service>>('/services?limit=1000')
  const [name, setName] = useState(stack?.name ?? '')
  const [chosen, setChosen] = useState<string[]>(stack?.services ?? [])
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
      const saved = stack
        ? await patch<Stack>(`/stacks/${encodeURIComponent(stack.name)}`, { services: chosen })
        : await post<Stack>('/stacks', { name: name.trim(), services: chosen })
      onSaved(saved.name)
    } catch (caught) {
      const problems = caught instanceof ApiError ? caught.problems : []
      const sorted = sortProblems(problems, ['name', 'services'])
      setByField(sorted.byField)
      const unplaced = Object.keys(sorted.byField).length === 0 && sorted.others.length === 0
      setError(unplaced ? errorText(caught) : sorted.others.join('; ') || undefined)
      setBusy(false)
    }
  }

  const items = services.data?.items ?? []
  return (
    <Dialog title={stack ? `Services of ${stack.name}` : 'Create a stack'} onClose={onClose}>
      <form onSubmit={submit} className="stack" noValidate>
        {!stack && (
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
        )}
        <fieldset aria-describedby={byField.services ? 'stack-services-error' : undefined}>
          <legend>Services</legend>
          {services.data && items.length === 0 && (
            <p className="muted">
              There are no services to group yet. <Link to="/new-service">Create a service</Link>{' '}
              first.
            </p>
          )}
          <div className="checks">
            {items.map((s, index) => (
              <label key={s.name} className="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(s.name)}
                  onChange={(e) => toggle(s.name, e.target.checked)}
                  autoFocus={stack !== undefined && index === 0}
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
            {busy ? 'Saving…' : stack ? 'Save services' : 'Create stack'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
