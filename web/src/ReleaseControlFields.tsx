// A service's release control (docs/release-control.md): approvals, change windows, freeze on
// rollback, deploy hooks and git-host statuses, saved as one merge patch. A setting cleared
// here is sent as null, so the API removes it instead of keeping the stored one.
import { type FormEvent, useEffect, useRef, useState } from 'react'

import { MAX_APPROVALS } from '../../src/model/index.ts'
import { ApiError, errorText, patch } from './api.ts'
import { ChangeWindowsField, windowFields } from './ChangeWindowsField.tsx'
import {
  type CommitStatusDraft,
  CommitStatusFields,
  STATUS_FIELDS,
  statusDraftOf,
  statusPatch,
} from './CommitStatusFields.tsx'
import { Field, sortProblems } from './Field.tsx'
import { patchText } from './merge-patch.ts'
import type { ChangeWindow, Service } from './types.ts'

const HOOKS = ['before', 'after'] as const
type HookName = (typeof HOOKS)[number]

interface HookDraft {
  run: string
  timeout: string
}

interface Draft {
  approvals: boolean
  required: string
  deadline: string
  windows: ChangeWindow[]
  freezeOnRollback: boolean
  hooks: Record<HookName, HookDraft>
  statuses: CommitStatusDraft
}

const HOOK_TEXT: Record<HookName, { label: string; hint: string }> = {
  before: {
    label: 'Before each deployment',
    hint: 'a shell command on Deckhand’s host; when it fails, the deployment fails untouched',
  },
  after: {
    label: 'After each deployment',
    hint: 'runs whatever the outcome ($DECKHAND_DEPLOYMENT_STATE) and never changes it',
  },
}

function draftOf(service: Service): Draft {
  const { deploy } = service
  const hook = (name: HookName) => ({
    run: deploy[name]?.run ?? '',
    timeout: deploy[name]?.timeout ?? '',
  })
  return {
    approvals: Boolean(deploy.approvals),
    required: String(deploy.approvals?.required ?? 1),
    deadline: deploy.approvals?.deadline ?? '',
    windows: (deploy.windows ?? []).map((w) => ({ ...w })),
    freezeOnRollback: deploy.freezeOnRollback === true,
    hooks: { before: hook('before'), after: hook('after') },
    statuses: statusDraftOf(service),
  }
}

function isWholeInRange(text: string, min: number, max: number): boolean {
  return /^\s*\d+\s*$/.test(text) && Number(text) >= min && Number(text) <= max
}

/** The deploy part of the merge patch; the blocks not asked for are null (removed). */
function deployPatch(service: Service, draft: Draft) {
  const stored = service.deploy
  const hook = (name: HookName) => {
    const { run, timeout } = draft.hooks[name]
    return run.trim() === '' ? null : { run, timeout: patchText(timeout, stored[name]?.timeout) }
  }
  return {
    approvals: draft.approvals
      ? {
          required: Number(draft.required),
          deadline: patchText(draft.deadline, stored.approvals?.deadline),
        }
      : null,
    windows: draft.windows.length > 0 ? draft.windows : null,
    freezeOnRollback: draft.freezeOnRollback,
    before: hook('before'),
    after: hook('after'),
  }
}

const FIXED_FIELDS = [
  'deploy.approvals',
  'deploy.approvals.required',
  'deploy.approvals.deadline',
  'deploy.freezeOnRollback',
  ...HOOKS.flatMap((name) => [`deploy.${name}`, `deploy.${name}.run`, `deploy.${name}.timeout`]),
  ...STATUS_FIELDS,
]

export function ReleaseControlForm({
  service,
  onSaved,
}: {
  service: Service
  onSaved: () => void
}) {
  const [draft, setDraft] = useState(() => draftOf(service))
  const [byField, setByField] = useState<Record<string, string>>({})
  const [others, setOthers] = useState<string[]>([])
  const [saved, setSaved] = useState(false)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const change = (part: Partial<Draft>) => setDraft((d) => ({ ...d, ...part }))
  const setHook = (name: HookName, part: Partial<HookDraft>) =>
    setDraft((d) => ({ ...d, hooks: { ...d.hooks, [name]: { ...d.hooks[name], ...part } } }))

  useEffect(() => {
    // After a refused save, keyboard and screen-reader users land on the first field to fix.
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
  }, [byField])

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSaved(false)
    setOthers([])
    if (draft.approvals && !isWholeInRange(draft.required, 1, MAX_APPROVALS)) {
      const message = `must be a whole number from 1 to ${MAX_APPROVALS}`
      setByField({ 'deploy.approvals.required': message })
      return
    }
    setBusy(true)
    const body = { deploy: deployPatch(service, draft), ...statusPatch(service, draft.statuses) }
    try {
      const answer = await patch<Service>(`/services/${encodeURIComponent(service.name)}`, body)
      setDraft(draftOf(answer))
      setByField({})
      setSaved(true)
      onSaved()
    } catch (caught) {
      const fields = [...FIXED_FIELDS, ...windowFields(draft.windows.length)]
      const sorted = sortProblems(caught instanceof ApiError ? caught.problems : [], fields)
      setByField(sorted.byField)
      const unplaced = Object.keys(sorted.byField).length === 0 && sorted.others.length === 0
      setOthers(unplaced ? [errorText(caught)] : sorted.others)
    } finally {
      setBusy(false)
    }
  }

  const failed = Object.keys(byField).length > 0 || others.length > 0
  return (
    <form
      ref={form}
      onSubmit={submit}
      className="stack card release-control"
      aria-labelledby="release-title"
      noValidate
    >
      <h2 id="release-title">Release control</h2>
      <p className="muted">
        Whether and when a deployment of {service.name} may start, what runs around it, and where
        its outcome is reported.
      </p>
      <fieldset>
        <legend>Approvals</legend>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.approvals}
            onChange={(e) => change({ approvals: e.target.checked })}
          />
          Each deployment waits for admins to approve it
        </label>
        {byField['deploy.approvals'] && (
          <p className="field-error">{byField['deploy.approvals']}</p>
        )}
        {draft.approvals ? (
          <div className="row">
            <Field
              id="approvals-required"
              label="Approvals required"
              hint={`from distinct admin tokens, 1 to ${MAX_APPROVALS}`}
              error={byField['deploy.approvals.required']}
            >
              <input
                id="approvals-required"
                inputMode="numeric"
                value={draft.required}
                onChange={(e) => change({ required: e.target.value })}
              />
            </Field>
            <Field
              id="approvals-deadline"
              label="Deadline"
              hint="canceled when not approved in time; default 24h, at most 30d"
              error={byField['deploy.approvals.deadline']}
            >
              <input
                id="approvals-deadline"
                value={draft.deadline}
                placeholder="24h"
                onChange={(e) => change({ deadline: e.target.value })}
              />
            </Field>
          </div>
        ) : (
          <p className="hint">None: deployments are queued at once.</p>
        )}
      </fieldset>
      <ChangeWindowsField
        windows={draft.windows}
        errors={byField}
        onChange={(windows) => change({ windows })}
      />
      <label className="check">
        <input
          type="checkbox"
          checked={draft.freezeOnRollback}
          onChange={(e) => change({ freezeOnRollback: e.target.checked })}
        />
        Freeze the service when a failed deployment leaves what ran before running
      </label>
      {byField['deploy.freezeOnRollback'] && (
        <p className="field-error">{byField['deploy.freezeOnRollback']}</p>
      )}
      <fieldset>
        <legend>Deploy hooks</legend>
        {HOOKS.map((name) => (
          <div className="row hook-row" key={name}>
            <Field
              id={`hook-${name}`}
              label={HOOK_TEXT[name].label}
              hint={HOOK_TEXT[name].hint}
              error={byField[`deploy.${name}.run`] ?? byField[`deploy.${name}`]}
            >
              <textarea
                id={`hook-${name}`}
                className="mono"
                rows={2}
                spellCheck={false}
                value={draft.hooks[name].run}
                placeholder="none"
                onChange={(e) => setHook(name, { run: e.target.value })}
              />
            </Field>
            <Field
              id={`hook-${name}-timeout`}
              label={`Timeout (${name})`}
              hint="default 60s, at most 1h"
              error={byField[`deploy.${name}.timeout`]}
            >
              <input
                id={`hook-${name}-timeout`}
                value={draft.hooks[name].timeout}
                placeholder="60s"
                onChange={(e) => setHook(name, { timeout: e.target.value })}
              />
            </Field>
          </div>
        ))}
      </fieldset>
      <CommitStatusFields
        service={service}
        draft={draft.statuses}
        errors={byField}
        onChange={(statuses) => change({ statuses })}
      />
      {failed && (
        <div className="error" role="alert">
          Release control was not saved.{' '}
          {others.length > 0 ? others.join('; ') : 'Fix the fields marked above.'}
        </div>
      )}
      {saved && !failed && (
        <p className="notice" role="status">
          Release control saved.
        </p>
      )}
      <div className="buttons">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save release control'}
        </button>
      </div>
    </form>
  )
}
