// A label, its control, an optional hint and the API's problem with it, wired for screen readers.
import { cloneElement, type ReactElement } from 'react'

import type { Problem } from './api.ts'

interface ControlProps {
  'aria-describedby'?: string
  'aria-invalid'?: boolean
}

/** The hint and the error describe the control; neither is part of its name. */
export function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string
  label: string
  hint?: string
  error?: string
  children: ReactElement<ControlProps>
}) {
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ')
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span id={`${id}-hint`} className="hint">
          {hint}
        </span>
      )}
      {cloneElement(children, {
        'aria-describedby': describedBy || undefined,
        'aria-invalid': error ? true : undefined,
      })}
      {error && (
        <span id={`${id}-error`} className="field-error">
          {error}
        </span>
      )}
    </div>
  )
}

/**
 * Splits the API's problems into those a form shows beside a field (keyed by dotted path, e.g.
 * `scale.max`) and the rest, which it shows above the buttons.
 */
export function sortProblems(
  problems: Problem[],
  fields: readonly string[],
  /** How to name a path that has no field here, e.g. `{ replicas: 'Current replicas (3)' }`. */
  labels: Record<string, string> = {},
) {
  const byField: Record<string, string> = {}
  const others: string[] = []
  for (const problem of problems) {
    const path = problem.path.join('.')
    if (fields.includes(path)) {
      byField[path] = byField[path] ? `${byField[path]}; ${problem.message}` : problem.message
    } else {
      const label = labels[path] ?? path
      others.push(label ? `${label}: ${problem.message}` : problem.message)
    }
  }
  return { byField, others }
}
