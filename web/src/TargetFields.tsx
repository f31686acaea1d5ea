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
  health: '2s',
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

export function ProcessFields({ draft, error, onChange }: FieldsProps) {
  return (
    <>
      <Field
        id="target-command"
        label="Command"
        hint="the command line of one replica, run by /bin/sh"
        error={error}
      >
        <input
          id="target-command"
          className="mono"
          spellCheck={false}
          value={draft.command}
          placeholder="node server.js"
          onChange={(e) => onChange({ command: e.target.value })}
        />
      </Field>
      <div className="row">
        <Field id="target-replicas" label="Replicas">
          <input
            id="target-replicas"
            inputMode="numeric"
            value={draft.replicas}
            onChange={(e) => onChange({ replicas: e.target.value })}
          />
        </Field>
        <Field id="target-port" label="Base port" hint="optional; replica i gets PORT = base + i">
          <input
            id="target-port"
            inputMode="numeric"
            value={draft.basePort}
            placeholder="4100"
            onChange={(e) => onChange({ basePort: e.target.value })}
          />
        </Field>
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
          <Field
            id="target-health"
            label={draft.healthKind === 'http' ? 'Health path' : 'Running for'}
          >
            <input
              id="target-health"
              value={draft.health}
              placeholder={draft.healthKind === 'http' ? '/healthz' : '2s'}
              onChange={(e) => onChange({ health: e.target.value })}
            />
          </Field>
        )}
      </div>
      <Field id="target-cwd" label="Working directory" hint="optional">
        <input
          id="target-cwd"
          className="mono"
          spellCheck={false}
          value={draft.cwd}
          placeholder="/srv/web"
          onChange={(e) => onChange({ cwd: e.target.value })}
        />
      </Field>
    </>
  )
}

export function CommandFields({ draft, error, onChange }: FieldsProps) {
  return (
    <>
      <p className="hint">
        Each command runs in /bin/sh with the call's data in <code>DECKHAND_*</code> variables; exit
        code 0 is success. Set at least one.
      </p>
      <Field id="target-redeploy" label="Redeploy command" error={error}>
        <input
          id="target-redeploy"
          className="mono"
          spellCheck={false}
          value={draft.redeploy}
          placeholder="docker compose up -d web"
          onChange={(e) => onChange({ redeploy: e.target.value })}
        />
      </Field>
      <Field id="target-scale" label="Scale command" hint="DECKHAND_REPLICAS holds the new count">
        <input
          id="target-scale"
          className="mono"
          spellCheck={false}
          value={draft.scale}
          placeholder="docker compose up -d --scale web=$DECKHAND_REPLICAS"
          onChange={(e) => onChange({ scale: e.target.value })}
        />
      </Field>
      <div className="row">
        <Field id="target-cwd" label="Working directory" hint="optional">
          <input
            id="target-cwd"
            className="mono"
            spellCheck={false}
            value={draft.cwd}
            onChange={(e) => onChange({ cwd: e.target.value })}
          />
        </Field>
        <Field id="target-timeout" label="Timeout" hint="optional; default 10m">
          <input
            id="target-timeout"
            value={draft.timeout}
            placeholder="10m"
            onChange={(e) => onChange({ timeout: e.target.value })}
          />
        </Field>
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
