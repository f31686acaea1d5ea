// The tag policy as a choice plus, for glob: and regexp:, the pattern it carries.
import { TAG_POLICY_NAMES, TAG_POLICY_PATTERNS } from '../../src/model/index.ts'
import { Field } from './Field.tsx'

// The API's policies; glob and regexp take a pattern after a colon.
const KINDS = [...TAG_POLICY_NAMES, ...TAG_POLICY_PATTERNS] as const
type Kind = (typeof KINDS)[number]

const KIND_HINTS: Record<Kind, string> = {
  all: 'any tag a call names is taken',
  force: 'the same tag again, pulled afresh',
  'semver-major': 'only a higher version, any major',
  'semver-minor': 'only a higher version with the same major',
  'semver-patch': 'only a higher patch of the same major.minor',
  glob: 'only tags matching a glob, e.g. v1.*',
  regexp: 'only tags matching a regular expression, e.g. ^v\\d+\\.\\d+$',
}

export function splitTagPolicy(policy: string): { kind: Kind; pattern: string } {
  for (const kind of TAG_POLICY_PATTERNS) {
    if (policy.startsWith(`${kind}:`)) {
      return { kind, pattern: policy.slice(kind.length + 1) }
    }
  }
  const kind = KINDS.find((k) => k === policy)
  return { kind: kind ?? 'all', pattern: '' }
}

export function TagPolicyField({
  value,
  error,
  onChange,
}: {
  value: string
  error?: string
  onChange: (policy: string) => void
}) {
  const { kind, pattern } = splitTagPolicy(value)
  const hasPattern = kind === 'glob' || kind === 'regexp'
  const join = (k: Kind, p: string) => onChange(k === 'glob' || k === 'regexp' ? `${k}:${p}` : k)
  return (
    <div className="row">
      <Field
        id="tag-policy"
        label="Tag policy"
        hint={KIND_HINTS[kind]}
        error={hasPattern ? undefined : error}
      >
        <select
          id="tag-policy"
          value={kind}
          onChange={(e) => join(e.target.value as Kind, pattern)}
        >
          {KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </Field>
      {hasPattern && (
        <Field
          id="tag-pattern"
          label={kind === 'glob' ? 'Glob pattern' : 'Regular expression'}
          error={error}
        >
          <input
            id="tag-pattern"
            value={pattern}
            spellCheck={false}
            className="mono"
            onChange={(e) => join(kind, e.target.value)}
          />
        </Field>
      )}
    </div>
  )
}
