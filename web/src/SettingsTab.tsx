// A service's settings: scale bounds, tag policy and deploy policy, release control, its driver
// target (each saved as a merge patch), and delete.
import { type FormEvent, useEffect, useRef, useState } from 'react'

import { DEPLOY_ORDERS, PULL_POLICIES } from '../../src/model/index.ts'
import { ApiError, errorText, patch } from './api.ts'
import { DeleteSection } from './DeleteSection.tsx'
import { Field, sortProblems } from './Field.tsx'
import { ReleaseControlForm } from './ReleaseControlFields.tsx'
import { ScaleBoundsFields } from './ScaleBoundsFields.tsx'
import { TagPolicyField } from './TagPolicyField.tsx'
import {
  checkDraft,
  draftOf as targetDraftOf,
  MANAGED_FIELDS,
  targetBody,
  type TargetDraft,
  TargetEditor,
  targetErrors,
} from './TargetFields.tsx'
import type { DeployPolicy, Service } from './types.ts'

// The fields this form shows a problem beside, as the API names them.
const FIELDS = [
  'scale.min',
  'scale.max',
  'tagPolicy',
  'deploy.order',
  'deploy.healthTimeout',
  'deploy.pull',
  'deploy.rollback',
]

interface Draft {
  min: string
  max: string
  tagPolicy: string
  deploy: DeployPolicy
}

function draftOf(service: Service): Draft {
  const { scale, tagPolicy, deploy } = service
  return { min: String(scale.min), max: String(scale.max), tagPolicy, deploy: { ...deploy } }
}

/** Numbers go as numbers; anything else goes as typed, so the API names the problem. */
function asNumber(text: string): number | string {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text
}

export function SettingsTab({ service, onSaved }: { service: Service; onSaved: () => void }) {
  const name = encodeURIComponent(service.name)
  return (
    <div className="settings">
      <SettingsForm service={service} onSaved={onSaved} />
      <ReleaseControlForm service={service} onSaved={onSaved} />
      <TargetForm service={service} onSaved={onSaved} />
      <DeleteSection what="service" name={service.name} apiPath={`/services/${name}`} listPath="/">
        Its trigger URLs stop working at once, queued deployments are canceled
        {service.driver === 'process' ? ' and its processes are stopped' : ''}. Its deployment
        history and calls stay in the audit trail.
      </DeleteSection>
    </div>
  )
}

function SettingsForm({ service, onSaved }: { service: Service; onSaved: () => void }) {
  const [draft, setDraft] = useState(() => draftOf(service))
  const [byField, setByField] = useState<Record<string, string>>({})
  const [others, setOthers] = useState<string[]>([])
  const [saved, setSaved] = useState(false)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const setDeploy = (change: Partial<DeployPolicy>) =>
    setDraft((d) => ({ ...d, deploy: { ...d.deploy, ...change } }))

  useEffect(() => {
    // After a refused save, keyboard and screen-reader users land on the first field to fix.
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
  }, [byField])

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setSaved(false)
    const { order, healthTimeout, pull, rollback } = draft.deploy
    // Only this form's fields: the draft's copy of the rest (approvals, hooks, windows) may be
    // older than what the release-control form saved since.
    const body = {
      scale: { min: asNumber(draft.min), max: asNumber(draft.max) },
      tagPolicy: draft.tagPolicy,
      deploy: { order, healthTimeout: asNumber(healthTimeout), pull, rollback },
    }
    try {
      const answer = await patch<Service>(`/services/${encodeURIComponent(service.name)}`, body)
      setDraft(draftOf(answer))
      setByField({})
      setOthers([])
      setSaved(true)
      onSaved()
    } catch (caught) {
      // The running count must fit the new bounds too; scale first, or widen the bounds.
      const labels = { replicas: `The current replica count (${service.replicas ?? 'unset'})` }
      const sorted = sortProblems(caught instanceof ApiError ? caught.problems : [], FIELDS, labels)
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
      className="stack card"
      aria-labelledby="settings-title"
      noValidate
    >
      <h2 id="settings-title">Scale and policies</h2>
      <ScaleBoundsFields
        min={draft.min}
        max={draft.max}
        errors={byField}
        onChange={(change) => setDraft({ ...draft, ...change })}
      />
      <TagPolicyField
        value={draft.tagPolicy}
        error={byField.tagPolicy}
        onChange={(tagPolicy) => setDraft({ ...draft, tagPolicy })}
      />
      <fieldset>
        <legend>Deploy policy</legend>
        <div className="row">
          <Field id="deploy-order" label="Order" error={byField['deploy.order']}>
            <select
              id="deploy-order"
              value={draft.deploy.order}
              onChange={(e) => setDeploy({ order: e.target.value as DeployPolicy['order'] })}
            >
              {DEPLOY_ORDERS.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </select>
          </Field>
          <Field
            id="deploy-health"
            label="Health timeout"
            hint="e.g. 60s, 5m"
            error={byField['deploy.healthTimeout']}
          >
            <input
              id="deploy-health"
              value={draft.deploy.healthTimeout}
              onChange={(e) => setDeploy({ healthTimeout: e.target.value })}
            />
          </Field>
          <Field id="deploy-pull" label="Pull image" error={byField['deploy.pull']}>
            <select
              id="deploy-pull"
              value={draft.deploy.pull}
              onChange={(e) => setDeploy({ pull: e.target.value as DeployPolicy['pull'] })}
            >
              {PULL_POLICIES.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </Field>
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.deploy.rollback}
            onChange={(e) => setDeploy({ rollback: e.target.checked })}
          />
          Roll back when the new version does not become healthy
        </label>
      </fieldset>
      {failed && (
        <div className="error" role="alert">
          Nothing was saved.{' '}
          {others.length > 0 ? others.join('; ') : 'Fix the fields marked above.'}
        </div>
      )}
      {saved && !failed && (
        <p className="notice" role="status">
          Saved.
        </p>
      )}
      <div className="buttons">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  )
}

/**
 * A merge patch that makes the stored target the drafted one: fields the form writes and the
 * draft leaves out become null (removed); with a JSON target, every field left out does.
 */
export function targetPatch(
  driver: string,
  stored: Record<string, unknown>,
  next: Record<string, unknown>,
) {
  const managed = MANAGED_FIELDS[driver] ?? Object.keys(stored)
  const removed = managed.filter((key) => key in stored && !(key in next))
  return { ...Object.fromEntries(removed.map((key) => [key, null])), ...next }
}

function TargetForm({ service, onSaved }: { service: Service; onSaved: () => void }) {
  const [draft, setDraft] = useState<TargetDraft>(() =>
    targetDraftOf(service.driver, service.target, service.image),
  )
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [others, setOthers] = useState<string[]>([])
  const [saved, setSaved] = useState(false)
  const [busy, setBusy] = useState(false)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSaved(false)
    const found = checkDraft(service.driver, draft)
    let body: Record<string, unknown> = {}
    try {
      body = targetBody(service.driver, draft)
    } catch {
      found.json = 'is not valid JSON; write an object'
    }
    setErrors(found)
    setOthers([])
    if (Object.keys(found).length > 0) {
      return
    }
    setBusy(true)
    const target = targetPatch(
      service.driver,
      service.target,
      body.target as Record<string, unknown>,
    )
    try {
      const answer = await patch<Service>(`/services/${encodeURIComponent(service.name)}`, {
        ...body,
        target,
      })
      setDraft(targetDraftOf(answer.driver, answer.target, answer.image))
      setSaved(true)
      onSaved()
    } catch (caught) {
      const sorted = sortProblems(caught instanceof ApiError ? caught.problems : [], [
        'target',
        'image',
      ])
      const placed = targetErrors(
        service.driver,
        sorted.byField.target?.split('; ') ?? [],
        sorted.byField.image,
      )
      const unplaced = Object.keys(placed).length === 0 && sorted.others.length === 0
      setErrors(placed)
      setOthers(unplaced ? [errorText(caught)] : sorted.others)
    } finally {
      setBusy(false)
    }
  }

  const failed = Object.keys(errors).length > 0 || others.length > 0
  return (
    <form onSubmit={submit} className="stack card" aria-labelledby="target-title" noValidate>
      <h2 id="target-title">Driver target</h2>
      <p className="muted">
        Where {service.name} runs on the <strong>{service.driver}</strong> driver. Saving changes
        what the next deployment acts on; nothing is redeployed now.
      </p>
      <TargetEditor
        driver={service.driver}
        draft={draft}
        errors={errors}
        onChange={(change) => setDraft((d) => ({ ...d, ...change }))}
      />
      {failed && (
        <div className="error" role="alert">
          The target was not saved.{' '}
          {others.length > 0 ? others.join('; ') : 'Fix the fields marked above.'}
        </div>
      )}
      {saved && !failed && (
        <p className="notice" role="status">
          Target saved.
        </p>
      )}
      <div className="buttons">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save target'}
        </button>
      </div>
    </form>
  )
}
