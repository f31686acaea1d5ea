// The create-service form: name, driver, scale bounds and the driver's target; the API checks it.
import { useEffect, useRef, useState, type FormEvent } from 'react'
import { ApiError, errorText, post } from './api.ts'
import { Field, sortProblems } from './Field.tsx'
import { Link, navigate } from './router.tsx'
import {
  buildTarget,
  CommandFields,
  EMPTY_TARGET,
  JsonTargetField,
  ProcessFields,
  type TargetDraft,
} from './TargetFields.tsx'

// src/model DRIVER_NAMES; the UI offers fields for the first two and JSON for the rest.
const DRIVERS = ['process', 'command', 'docker', 'swarm', 'kubernetes'] as const
const FIELDS = ['name', 'driver', 'target', 'scale.min', 'scale.max', 'replicas']

function asNumber(text: string): number | string {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : text
}

export function CreateServicePage() {
  const [name, setName] = useState('')
  const [driver, setDriver] = useState<string>('process')
  // The API's default (src/specs/service-spec.ts), so a form left as it is creates what the API and CLI would.
  const [min, setMin] = useState('0')
  const [max, setMax] = useState('10')
  const [target, setTarget] = useState<TargetDraft>(EMPTY_TARGET)
  const [byField, setByField] = useState<Record<string, string>>({})
  const [others, setOthers] = useState<string[]>([])
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const changeTarget = (change: Partial<TargetDraft>) => setTarget((t) => ({ ...t, ...change }))

  useEffect(() => {
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
  }, [byField])

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    let built: Record<string, unknown>
    try {
      built = buildTarget(driver, target)
    } catch {
      setByField({ target: 'is not valid JSON; write an object such as {"service": "web"}' })
      return
    }
    setBusy(true)
    const body = {
      name: name.trim(),
      driver,
      target: built,
      scale: { min: asNumber(min), max: asNumber(max) },
    }
    try {
      const created = await post<{ name: string }>('/services', body)
      navigate(
        `/services/${encodeURIComponent(created.name)}`,
        `Service ${created.name} was created. Add a trigger to get a URL that deploys it.`,
      )
    } catch (caught) {
      const sorted = sortProblems(caught instanceof ApiError ? caught.problems : [], FIELDS)
      setByField(sorted.byField)
      const unplaced = Object.keys(sorted.byField).length === 0 && sorted.others.length === 0
      setOthers(unplaced ? [errorText(caught)] : sorted.others)
      setBusy(false)
    }
  }

  const targetError = byField.target
  return (
    <section>
      <p className="crumbs">
        <Link to="/">Services</Link> / new
      </p>
      <h1>Create a service</h1>
      <form
        ref={form}
        onSubmit={submit}
        className="stack card"
        noValidate
        aria-label="Create a service"
      >
        <div className="row">
          <Field
            id="service-name"
            label="Name"
            hint="lower-case letters, digits, - _ ."
            error={byField.name}
          >
            <input
              id="service-name"
              value={name}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => setName(e.target.value)}
              // The page is only this form: start typing at once, keyboard or not.
              autoFocus
            />
          </Field>
          <Field id="service-driver" label="Driver" error={byField.driver}>
            <select id="service-driver" value={driver} onChange={(e) => setDriver(e.target.value)}>
              {DRIVERS.map((d) => (
                <option key={d}>{d}</option>
              ))}
            </select>
          </Field>
        </div>
        <fieldset>
          <legend>
            {driver === 'process' ? 'Process' : driver === 'command' ? 'Commands' : 'Target'}
          </legend>
          <div className="stack">
            {driver === 'process' && (
              <ProcessFields draft={target} error={targetError} onChange={changeTarget} />
            )}
            {driver === 'command' && (
              <CommandFields draft={target} error={targetError} onChange={changeTarget} />
            )}
            {!['process', 'command'].includes(driver) && (
              <JsonTargetField
                driver={driver}
                draft={target}
                error={targetError}
                onChange={changeTarget}
              />
            )}
          </div>
        </fieldset>
        <fieldset>
          <legend>Scale bounds</legend>
          <div className="row">
            <Field id="scale-min" label="Minimum replicas" error={byField['scale.min']}>
              <input
                id="scale-min"
                inputMode="numeric"
                value={min}
                onChange={(e) => setMin(e.target.value)}
              />
            </Field>
            <Field id="scale-max" label="Maximum replicas" error={byField['scale.max']}>
              <input
                id="scale-max"
                inputMode="numeric"
                value={max}
                onChange={(e) => setMax(e.target.value)}
              />
            </Field>
          </div>
          {byField.replicas && <p className="field-error">Replicas: {byField.replicas}</p>}
        </fieldset>
        {(others.length > 0 || Object.keys(byField).length > 0) && (
          <div className="error" role="alert">
            The service was not created.{' '}
            {others.length > 0 ? others.join('; ') : 'Fix the fields marked above.'}
          </div>
        )}
        <div className="buttons">
          <Link to="/" className="button secondary">
            Cancel
          </Link>
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create service'}
          </button>
        </div>
      </form>
    </section>
  )
}
