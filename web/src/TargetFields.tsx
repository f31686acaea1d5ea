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
  dockerMode: DockerMode
  container: string
  project: string
  service: string
  /** `name=value`, one a line. */
  labels: string
  /** The service's `image` (not part of the target): what docker and swarm run. */
  image: string
  json: string
}

export const DOCKER_MODES = ['container', 'compose', 'labels'] as const
type DockerMode = (typeof DOCKER_MODES)[number]
const DOCKER_MODE_LABELS: Record<DockerMode, string> = {
  container: 'one container, by name',
  compose: 'a Compose service',
  labels: 'containers with labels',
}

/** What a newly chosen health kind starts from: the old value means something else now. */
const HEALTH_START: Record<HealthKind, string> = { runningFor: '1s', http: '', tcp: '', none: '' }

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
  dockerMode: 'container',
  container: '',
  project: '',
  service: '',
  labels: '',
  image: '',
  json: '{}',
}

/** Problems found before sending, keyed by target field; empty when the draft may go. */
export function checkDraft(driver: string, d: TargetDraft): Record<string, string> {
  const problems: Record<string, string> = {}
  const wholeNumber = (text: string) => /^\s*\d+\s*$/.test(text)
  if (driver === 'process') {
    if (!wholeNumber(d.replicas)) {
      problems.replicas = 'must be a whole number, such as 1'
    }
    if (
      d.basePort.trim() &&
      (!wholeNumber(d.basePort) || Number(d.basePort) < 1 || Number(d.basePort) > 65535)
    ) {
      problems.basePort = 'must be a port number between 1 and 65535'
    }
    if (d.healthKind === 'http' && !d.health.trim().startsWith('/')) {
      problems.health = 'must be a path starting with "/", such as /healthz'
    }
    if ((d.healthKind === 'http' || d.healthKind === 'tcp') && !d.basePort.trim()) {
      problems.basePort = 'is needed: the health check calls this port'
    }
  }
  if (driver === 'docker') {
    if (d.dockerMode === 'container' && !d.container.trim()) {
      problems.container = 'name the container, such as web'
    }
    if (d.dockerMode === 'compose') {
      if (!d.project.trim()) {
        problems.project = 'name the Compose project, such as shop'
      }
      if (!d.service.trim()) {
        problems.service = 'name the Compose service, such as web'
      }
    }
    if (d.dockerMode === 'labels') {
      const lines = d.labels.split('\n').filter((line) => line.trim())
      if (lines.length === 0) {
        problems.labels = 'name at least one label, as name=value'
      } else if (lines.some((line) => !/^[^=\s]+=.*$/.test(line.trim()))) {
        problems.labels = 'write one name=value a line'
      }
    }
  }
  return problems
}

/** The form's draft of a stored target, for editing; fields the form does not show stay as they are. */
export function draftOf(
  driver: string,
  target: Record<string, unknown>,
  image: string | null,
): TargetDraft {
  const text = (value: unknown) => (value === undefined || value === null ? '' : String(value))
  const draft: TargetDraft = {
    ...EMPTY_TARGET,
    image: image ?? '',
    json: JSON.stringify(target, null, 2),
  }
  if (driver === 'process') {
    const health = (target.health ?? { runningFor: '1s' }) as Record<string, unknown>
    const kind = (HEALTH_KINDS.find((k) => k in health) ?? 'none') as HealthKind
    return {
      ...draft,
      command: text(target.command),
      cwd: text(target.cwd),
      replicas: text(target.replicas ?? 1),
      basePort: text(target.basePort),
      healthKind: kind,
      health: kind === 'tcp' || kind === 'none' ? '' : text(health[kind]),
    }
  }
  if (driver === 'command') {
    return {
      ...draft,
      redeploy: text(target.redeploy),
      scale: text(target.scale),
      cwd: text(target.cwd),
      timeout: text(target.timeout),
    }
  }
  if (driver === 'docker') {
    const labels = (target.labels ?? {}) as Record<string, string>
    const mode: DockerMode = target.labels ? 'labels' : target.project ? 'compose' : 'container'
    return {
      ...draft,
      dockerMode: mode,
      container: text(target.container),
      project: text(target.project),
      service: text(target.service),
      labels: Object.entries(labels)
        .map(([key, value]) => `${key}=${value}`)
        .join('\n'),
    }
  }
  return draft
}

/** The target fields the form writes for a driver: a merge patch clears those left out. */
export const MANAGED_FIELDS: Record<string, string[]> = {
  process: ['command', 'cwd', 'replicas', 'basePort', 'health'],
  command: ['redeploy', 'scale', 'cwd', 'timeout'],
  docker: ['container', 'project', 'service', 'labels'],
}

const JSON_EXAMPLES: Record<string, string> = {
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
    // An empty "running for" leaves the driver's default; `none` sends no check at all.
    const health =
      d.healthKind === 'none' || (d.healthKind === 'runningFor' && !d.health.trim())
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
  if (driver === 'docker') {
    if (d.dockerMode === 'compose') {
      return { project: d.project.trim(), service: d.service.trim() }
    }
    if (d.dockerMode === 'labels') {
      const pairs = d.labels
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
      return { labels: Object.fromEntries(pairs) }
    }
    return { container: d.container.trim() }
  }
  return JSON.parse(d.json) as Record<string, unknown>
}

interface FieldsProps {
  draft: TargetDraft
  /** Problems by target field (`basePort`, `health`, …), shown under that field. */
  errors?: Record<string, string>
  onChange: (change: Partial<TargetDraft>) => void
}

// The target fields the forms show a problem beside, as the API names them.
const TARGET_FIELDS = [
  'command',
  'cwd',
  'replicas',
  'basePort',
  'health',
  'redeploy',
  'scale',
  'timeout',
  'container',
  'project',
  'service',
  'labels',
  'image',
  'json',
]

/**
 * The API says target problems as sentences naming the field (`target.basePort must be …`):
 * each goes under its field here, and those naming none under the driver's first field; the
 * service's `image` problem goes under the image field.
 */
export function targetErrors(
  driver: string,
  messages: string[],
  image: string | undefined,
): Record<string, string> {
  const fallback = FIRST_FIELD[driver] ?? 'json'
  const byField: Record<string, string> = {}
  for (const message of messages) {
    const named = /^target\.(\w+)/.exec(message)?.[1]
    const field = named && TARGET_FIELDS.includes(named) ? named : fallback
    byField[field] = byField[field] ? `${byField[field]}; ${message}` : message
  }
  if (image) {
    byField.image = image
  }
  return byField
}

/** One text field of the draft: a labelled input bound to `draft[name]`. */
function DraftInput({
  name,
  label,
  hint,
  error,
  errors,
  placeholder,
  mono,
  numeric,
  multiline,
  draft,
  onChange,
}: FieldsProps & {
  error?: string
  multiline?: boolean
  name: Exclude<keyof TargetDraft, 'healthKind' | 'dockerMode'>
  label: string
  hint?: string
  placeholder?: string
  mono?: boolean
  numeric?: boolean
}) {
  const id = `target-${name === 'basePort' ? 'port' : name}`
  return (
    <Field id={id} label={label} hint={hint} error={error ?? errors?.[name]}>
      {multiline ? (
        <textarea
          id={id}
          className="mono"
          rows={3}
          spellCheck={false}
          value={draft[name]}
          placeholder={placeholder}
          onChange={(e) => onChange({ [name]: e.target.value })}
        />
      ) : (
        <input
          id={id}
          className={mono ? 'mono' : undefined}
          spellCheck={mono ? false : undefined}
          inputMode={numeric ? 'numeric' : undefined}
          value={draft[name]}
          placeholder={placeholder}
          onChange={(e) => onChange({ [name]: e.target.value })}
        />
      )}
    </Field>
  )
}

export function ProcessFields({ draft, errors, onChange }: FieldsProps) {
  const bound = { draft, errors, onChange }
  return (
    <>
      <DraftInput
        {...bound}
        name="command"
        label="Command"
        hint="the command line of one replica, run by /bin/sh"
        placeholder="node server.js"
        mono
      />
      <div className="row">
        <DraftInput {...bound} name="replicas" label="Replicas" numeric />
        <DraftInput
          {...bound}
          name="basePort"
          label="Base port"
          hint="optional; replica i gets PORT = base + i"
          placeholder="4100"
          numeric
        />
      </div>
      <div className="row">
        <Field id="target-health-kind" label="Health check">
          <select
            id="target-health-kind"
            value={draft.healthKind}
            onChange={(e) => {
              const kind = e.target.value as HealthKind
              onChange({ healthKind: kind, health: HEALTH_START[kind] })
            }}
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
        {draft.healthKind !== 'http' && draft.healthKind !== 'runningFor' && errors?.health && (
          <p className="field-error">{errors.health}</p>
        )}
      </div>
      <DraftInput
        {...bound}
        name="cwd"
        label="Working directory"
        hint="optional"
        placeholder="/srv/web"
        mono
      />
    </>
  )
}

export function CommandFields({ draft, errors, onChange }: FieldsProps) {
  const bound = { draft, errors, onChange }
  return (
    <>
      <p className="hint">
        Each command runs in /bin/sh with the call's data in <code>DECKHAND_*</code> variables; exit
        code 0 is success. Set at least one.
      </p>
      <DraftInput
        {...bound}
        name="redeploy"
        label="Redeploy command"
        placeholder="docker compose up -d web"
        mono
      />
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
        <DraftInput
          {...bound}
          name="timeout"
          label="Timeout"
          hint="optional; default 10m"
          placeholder="10m"
        />
      </div>
    </>
  )
}

export function DockerFields({ draft, errors, onChange }: FieldsProps) {
  const bound = { draft, errors, onChange }
  return (
    <>
      <div className="row">
        <Field id="target-docker-mode" label="Runs as">
          <select
            id="target-docker-mode"
            value={draft.dockerMode}
            onChange={(e) => onChange({ dockerMode: e.target.value as DockerMode })}
          >
            {DOCKER_MODES.map((m) => (
              <option key={m} value={m}>
                {DOCKER_MODE_LABELS[m]}
              </option>
            ))}
          </select>
        </Field>
        <DraftInput
          {...bound}
          name="image"
          label="Image"
          hint="optional; without it the container's own image is kept"
          placeholder="ghcr.io/acme/web"
          mono
        />
      </div>
      {draft.dockerMode === 'container' && (
        <DraftInput {...bound} name="container" label="Container name" placeholder="web" mono />
      )}
      {draft.dockerMode === 'compose' && (
        <div className="row">
          <DraftInput {...bound} name="project" label="Compose project" placeholder="shop" mono />
          <DraftInput {...bound} name="service" label="Compose service" placeholder="web" mono />
        </div>
      )}
      {draft.dockerMode === 'labels' && (
        <DraftInput
          {...bound}
          name="labels"
          label="Labels"
          hint="one name=value a line; containers with all of them are the service"
          placeholder="app=web"
          multiline
        />
      )}
    </>
  )
}

export function JsonTargetField({
  driver,
  draft,
  error,
  onChange,
}: FieldsProps & { driver: string; error?: string }) {
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

/** The fields for `driver`'s target; problems naming no field go under the first one. */
export function TargetEditor({
  driver,
  draft,
  errors,
  onChange,
}: FieldsProps & { driver: string }) {
  const bound = { draft, errors, onChange }
  if (driver === 'process') {
    return <ProcessFields {...bound} />
  }
  if (driver === 'command') {
    return <CommandFields {...bound} />
  }
  if (driver === 'docker') {
    return <DockerFields {...bound} />
  }
  return <JsonTargetField driver={driver} {...bound} error={errors?.json} />
}

/** Where an unplaced target problem goes: the first field the driver's form shows. */
const FIRST_FIELD: Record<string, string> = {
  process: 'command',
  command: 'redeploy',
  docker: 'container',
}

/** The request body's `target` (and `image`) for a draft; throws on JSON that does not parse. */
export function targetBody(driver: string, draft: TargetDraft): Record<string, unknown> {
  const target = buildTarget(driver, draft)
  const hasImage = driver === 'docker' || driver === 'swarm'
  return { target, ...(hasImage && draft.image.trim() ? { image: draft.image.trim() } : {}) }
}
