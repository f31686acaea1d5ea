// `deploy.windows` as a list of rows (days, hours, timezone), at most as many as the API takes.
import { MAX_WINDOWS } from '../../src/model/index.ts'
import { Field } from './Field.tsx'
import type { ChangeWindow } from './types.ts'

/** The browser's zones, offered as suggestions; the API checks the zone it is sent. */
const ZONES: readonly string[] =
  typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []

/** A new row: office hours in the zone of the person adding it. */
function newWindow(): ChangeWindow {
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  return { days: 'mon-fri', hours: '09:00-17:00', timezone }
}

/** The API's field names a window row's problems come under, e.g. `deploy.windows.0.hours`. */
export function windowFields(count: number): string[] {
  const rows = Array.from({ length: count }, (_, index) =>
    ['days', 'hours', 'timezone'].map((key) => `deploy.windows.${index}.${key}`),
  )
  return ['deploy.windows', ...rows.flat(), ...rows.map((_, index) => `deploy.windows.${index}`)]
}

export function ChangeWindowsField({
  windows,
  errors,
  onChange,
}: {
  windows: ChangeWindow[]
  /** Problems by the API's field name (windowFields). */
  errors: Record<string, string | undefined>
  onChange: (windows: ChangeWindow[]) => void
}) {
  const change = (index: number, part: Partial<ChangeWindow>) =>
    onChange(windows.map((w, i) => (i === index ? { ...w, ...part } : w)))
  return (
    <fieldset>
      <legend>Change windows</legend>
      <p className="hint" id="windows-hint">
        When deployments may start. Outside every window a deployment waits, held, until the next
        one opens. None: any time.
      </p>
      {errors['deploy.windows'] && (
        <p className="field-error" id="windows-error">
          {errors['deploy.windows']}
        </p>
      )}
      {ZONES.length > 0 && (
        <datalist id="timezones">
          {ZONES.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
      )}
      <ol className="window-rows">
        {windows.map((w, index) => {
          const at = `deploy.windows.${index}`
          const id = `window-${index}`
          return (
            <li key={index} className="window-row" aria-label={`Change window ${index + 1}`}>
              <div className="row">
                <Field
                  id={`${id}-days`}
                  label="Days"
                  hint="e.g. mon-fri, sat,sun"
                  error={errors[`${at}.days`] ?? errors[at]}
                >
                  <input
                    id={`${id}-days`}
                    className="mono"
                    spellCheck={false}
                    value={w.days}
                    onChange={(e) => change(index, { days: e.target.value })}
                  />
                </Field>
                <Field
                  id={`${id}-hours`}
                  label="Hours"
                  hint="e.g. 09:00-17:00"
                  error={errors[`${at}.hours`]}
                >
                  <input
                    id={`${id}-hours`}
                    className="mono"
                    spellCheck={false}
                    value={w.hours}
                    onChange={(e) => change(index, { hours: e.target.value })}
                  />
                </Field>
                <Field
                  id={`${id}-timezone`}
                  label="Timezone"
                  hint="an IANA zone"
                  error={errors[`${at}.timezone`]}
                >
                  <input
                    id={`${id}-timezone`}
                    list={ZONES.length > 0 ? 'timezones' : undefined}
                    spellCheck={false}
                    value={w.timezone}
                    onChange={(e) => change(index, { timezone: e.target.value })}
                  />
                </Field>
              </div>
              <button
                type="button"
                className="secondary small"
                onClick={() => onChange(windows.filter((_, i) => i !== index))}
              >
                Remove<span className="visually-hidden"> change window {index + 1}</span>
              </button>
            </li>
          )
        })}
      </ol>
      <button
        type="button"
        className="secondary small"
        disabled={windows.length >= MAX_WINDOWS}
        onClick={() => onChange([...windows, newWindow()])}
      >
        Add a window
      </button>
      {windows.length >= MAX_WINDOWS && (
        <span className="hint"> A service has at most {MAX_WINDOWS} windows.</span>
      )}
    </fieldset>
  )
}
