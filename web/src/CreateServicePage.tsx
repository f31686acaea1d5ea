// The create-service form: name, driver, scale bounds and the driver's target; the API checks it.
import { type FormEvent, useEffect, useRef, useState } from 'react'

import { DEFAULT_SCALE } from '../../src/model/index.ts'
import { ApiError, errorText, post } from './api.ts'
import { Field, sortProblems } from './Field.tsx'
import { Link, navigate } from './router.tsx'
import { ScaleBoundsFields } from './ScaleBoundsFields.tsx'
import {
  checkDraft,
  EMPTY_TARGET,
  targetBody,
  type TargetDraft,
  TargetEditor,
  targetErrors,
} from './TargetFields.tsx'
import type { Page } from './types.ts'
import { useApi } from './use-api.ts'

const FIELDS = ['name', 'driver', 'target', 'image', 'scale.min', 'scale.max', 'replicas']

/** A problem with a bound, or undefined; checked here so a typo never reaches the server. */
export function boundProblem(text: string): string | undefined {
  return /^\s*\d+\s*$/.test(text) ? undefined : 'must be a whole number, such as 0 or 10'
}

export function CreateServicePage() {
  const [name, setName] = useState('')
  const [driver, setDriver] = useState<string>('process')
  // Only the drivers this server runs (DECKHAND_DRIVERS): a service on another is refused.
  const drivers = useApi<Page<{ name: string }>>('/drivers')
  const enabled = drivers.data?.items.map((d) => d.name) ?? []
  useEffect(() => {
    if (enabled.length > 0 && !enabled.includes(driver)) {
      setDriver(enabled[0]!)
    }
  }, [enabled.join(','), driver])
  // The API's defaults, so a form left as it is creates what the API and CLI would.
  const [min, setMin] = useState(String(DEFAULT_SCALE.min))
  const [max, setMax] = useState(String(DEFAULT_SCALE.max))
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
    const found: Record<string, string> = {}
    for (const [field, problem] of Object.entries(checkDraft(driver, target))) {
      found[`target.${field}`] = problem
    }
    for (const [field, text] of [
      ['scale.min', min],
      ['scale.max', max],
    ] as const) {
      const problem = boundProblem(text)
      if (problem) {
        found[field] = problem
      }
    }
    if (!name.trim()) {
      found.name = 'name the service, such as web'
    }
    let built: Record<string, unknown> = {}
    try {
      built = targetBody(driver, target)
    } catch {
      found['target.json'] = 'is not valid JSON; write an object such as {"service": "web"}'
    }
    if (Object.keys(found).length > 0) {
      setByField(found)
      setOthers([])
      return
    }
    setBusy(true)
    const body = {
      name: name.trim(),
      driver,
      ...built,
      scale: { min: Number(min), max: Number(max) },
    }
    try {
      const created = await post<{ name: string }>('/services', body)
      navigate(
        `/services/${encodeURIComponent(created.name)}`,
        `Service ${created.name} was created. Add a trigger to get a URL that deploys it.`,
      )
    } catch (caught) {
      const sorted = sortProblems(caught instanceof ApiError ? caught.problems : [], FIELDS)
      const { target: targetMessages, ...rest } = sorted.byField
      const placed = targetErrors(driver, targetMessages?.split('; ') ?? [], rest.image)
      setByField({
        ...rest,
        ...Object.fromEntries(Object.entries(placed).map(([k, v]) => [`target.${k}`, v])),
      })
      const unplaced = Object.keys(sorted.byField).length === 0 && sorted.others.length === 0
      setOthers(unplaced ? [errorText(caught)] : sorted.others)
      setBusy(false)
    }
  }

  const targetProblems = Object.fromEntries(
    Object.entries(byField)
      .filter(([key]) => key.startsWith('target.'))
      .map(([key, value]) => [key.slice('target.'.length), value]),
  )
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
          <Field
            id="service-driver"
            label="Driver"
            hint={`enabled here: ${enabled.join(', ') || '…'} (set by DECKHAND_DRIVERS)`}
            error={byField.driver}
          >
            <select id="service-driver" value={driver} onChange={(e) => setDriver(e.target.value)}>
              {enabled.map((d) => (
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
            <TargetEditor
              driver={driver}
              draft={target}
              errors={targetProblems}
              onChange={changeTarget}
            />
          </div>
        </fieldset>
        <ScaleBoundsFields
          min={min}
          max={max}
          errors={byField}
          onChange={(change) => {
            setMin(change.min ?? min)
            setMax(change.max ?? max)
          }}
        >
          {byField.replicas && <p className="field-error">Replicas: {byField.replicas}</p>}
        </ScaleBoundsFields>
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
