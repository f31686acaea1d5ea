// A service's scale bounds, as the create form and the settings tab both edit them.
import type { ReactNode } from 'react'

import { Field } from './Field.tsx'

export function ScaleBoundsFields({
  min,
  max,
  errors,
  onChange,
  children,
}: {
  min: string
  max: string
  /** Problems by the API's field name: `scale.min`, `scale.max`. */
  errors: Record<string, string | undefined>
  onChange: (change: { min?: string; max?: string }) => void
  /** Shown under the bounds: a problem with the replicas they must hold. */
  children?: ReactNode
}) {
  return (
    <fieldset>
      <legend>Scale bounds</legend>
      <div className="row">
        <Field id="scale-min" label="Minimum replicas" error={errors['scale.min']}>
          <input
            id="scale-min"
            inputMode="numeric"
            value={min}
            onChange={(e) => onChange({ min: e.target.value })}
          />
        </Field>
        <Field id="scale-max" label="Maximum replicas" error={errors['scale.max']}>
          <input
            id="scale-max"
            inputMode="numeric"
            value={max}
            onChange={(e) => onChange({ max: e.target.value })}
          />
        </Field>
      </div>
      {children}
    </fieldset>
  )
}
