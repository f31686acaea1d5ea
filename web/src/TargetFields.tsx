// The driver-specific half of the create-service form, and the target JSON it makes.
import { Field } from './Field.tsx'

export const HEALTH_KINDS = ['runningFor', 'http', 'tcp', 'none'] as const
type HealthKind = (typeof HEALTH_KINDS)[number]
const HEALTH_LABELS: Record<HealthKind, string> = {
  runningFor: 'still running after…',
  http: 'HTTP path answers 2xx',
  tcp: 'TCP port accepts',
  none: 'no check',
}

export interface TargetDraft {
  command: string
  cwd: string
  replicas: string
  basePort: string
  healthKind: HealthKind
  health: string
  redeploy: string
  scale: string
  timeout: string
  json: string
}

export const EMPTY_TARGET: TargetDraft = {
  command: '',
  cwd: '',
  replicas: '1',
  basePort: '',
  healthKind: 'runningFor',
  // The process driver's default check (src/drivers/process/process-target.ts DEFAULT_HEALTH).
  health: '1s',
  redeploy: '',
  scale: '',
  timeout: '',
  json: '{}',
}

const JSON_EXAMPLES: Record<string, string> = {
  docker: '{"container": "web"} or {"project": "shop", "service": "web"}',
  swarm: '{"service": "web"}',
  kubernetes: '{"namespace": "default", "kind": "Deployment", "name": "web"}',
}

function numberOr(text: string): number | string {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : text
}

/** The target the API expects for `driver`; blank optional fields are left out. */
export function buildTarget(driver: string, d: TargetDraft): Record<string, unknown> {
  const optional = (entries: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== ''))
  if (driver === 'process') {
    const health =
      d.healthKind === 'none'
        ? undefined
        : d.healthKind === 'tcp'
          ? { tcp: true }
          : { [d.healthKind]: d.health.trim() }
    return {
      ...optional({ command: d.command.trim(), cwd: d.cwd.trim() }),
      replicas: numberOr(d.replicas),
      ...(d.basePort.trim() ? { basePort: numberOr(d.basePort) } : {}),
      ...(health ? { health } : {}),
    }
  }
  if (driver === 'command') {
    return optional({
      redeploy: d.redeploy.trim(),
      scale: d.scale.trim(),
      cwd: d.cwd.trim(),
      timeout: d.timeout.trim(),
    })
  }
  return JSON.parse(d.json) as Record<string, unknown>
}

interface FieldsProps {
  draft: TargetDraft
  error?: string
  onChange: (change: Partial<TargetDraft>) => void
}

/** One text field of the draft: a labelled input bound to `draft[name]`. */
function DraftInput({
  name,
  label,
  hint,
  error,
  placeholder,
  mono,
  numeric,
  draft,
  onChange,
}: FieldsProps & {
  name: Exclude<keyof TargetDraft, 'healthKind'>
  label: string
  hint?: string
  placeholder?: string
  mono?: boolean
  numeric?: boolean
}) {
  const id = `target-${name === 'basePort' ? 'port' : name}`
  return (
    <Field id={id} label={label} hint={hint} error={error}>
      <input
        id={id}
        className={mono ? 'mono' : undefined}
        spellCheck={mono ? false : undefined}
        inputMode={numeric ? 'numeric' : undefined}
        value={draft[name]}
        placeholder={placeholder}
        onChange={(e) => onChange({ [name]: e.target.value })}
      />
    </Field>
  )
}

export function ProcessFields({ draft, error, onChange }: FieldsProps) {
  const bound = { draft, onChange }
  return (
    <>
      <DraftInput
        {...bound}
        name="command"
        label="Command"
        hint="the command line of one replica, run by /bin/sh"
        error={error}
        placeholder="node server.js"
        mono
      />
      <div className="row">
        <DraftInput {...bound} name="replicas" label="Replicas" numeric />
        <DraftInput {...bound} name="basePort" label="Base port" hint="optional; replica i gets PORT = base + i" placeholder="4100" numeric />
      </div>
      <div className="row">
        <Field id="target-health-kind" label="Health check">
          <select
            id="target-health-kind"
            value={draft.healthKind}
            onChange={(e) => onChange({ healthKind: e.target.value as HealthKind })}
          >
            {HEALTH_KINDS.map((k) => (
              <option key={k} value={k}>
                {HEALTH_LABELS[k]}
              </option>
            ))}
          </select>
        </Field>
        {(draft.healthKind === 'http' || draft.healthKind === 'runningFor') && (
          <DraftInput
            {...bound}
            name="health"
            label={draft.healthKind === 'http' ? 'Health path' : 'Running for'}
            placeholder={draft.healthKind === 'http' ? '/healthz' : '2s'}
          />
        )}
      </div>
      <DraftInput {...bound} name="cwd" label="Working directory" hint="optional" placeholder="/srv/web" mono />
    </>
  )
}

export function CommandFields({ draft, error, onChange }: FieldsProps) {
  const bound = { draft, onChange }
  return (
    <>
      <p className="hint">
        Each command runs in /bin/sh with the call's data in <code>DECKHAND_*</code> variables; exit
        code 0 is success. Set at least one.
      </p>
      <DraftInput {...bound} name="redeploy" label="Redeploy command" error={error} placeholder="docker compose up -d web" mono />
      <DraftInput
        {...bound}
        name="scale"
        label="Scale command"
        hint="DECKHAND_REPLICAS holds the new count"
        placeholder="docker compose up -d --scale web=$DECKHAND_REPLICAS"
        mono
      />
      <div className="row">
        <DraftInput {...bound} name="cwd" label="Working directory" hint="optional" mono />
        <DraftInput {...bound} name="timeout" label="Timeout" hint="optional; default 10m" placeholder="10m" />
      </div>
    </>
  )
}

export function JsonTargetField({
  driver,
  draft,
  error,
  onChange,
}: FieldsProps & { driver: string }) {
  return (
    <Field
      id="target-json"
      label="Target (JSON)"
      hint={`e.g. ${JSON_EXAMPLES[driver] ?? '{}'}`}
      error={error}
    >
      <textarea
        id="target-json"
        className="mono"
        rows={4}
        spellCheck={false}
        value={draft.json}
        onChange={(e) => onChange({ json: e.target.value })}
      />
    </Field>
  )
}
