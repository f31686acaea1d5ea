// The add-trigger form, in a dialog: name, action, step, sender, secret, allowed IPs, env
// allow-list and call conditions.
import { type FormEvent, useState } from 'react'

import { ACTIONS, SENDER_IDS, TRIGGER_DEFAULTS } from '../../src/model/index.ts'
import { ApiError, errorText, post } from './api.ts'
import { Dialog } from './Dialog.tsx'
import { Field } from './Field.tsx'
import { EMPTY_MATCH, matchBody, MatchEditor, sortMatchProblems } from './MatchEditor.tsx'
import type { TriggerOwner } from './types.ts'

function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter(Boolean)
}

export function TriggerForm({
  owner,
  members,
  onClose,
  onCreated,
}: {
  owner: TriggerOwner
  /** A stack's services, named in the note on `?services=`. */
  members?: string[]
  onClose: () => void
  onCreated: (created: { name: string; url: string; sender: string; hasSecret: boolean }) => void
}) {
  const [name, setName] = useState('')
  const [action, setAction] = useState('redeploy')
  // The API's defaults, so a form left as it is creates what the API and CLI would.
  const [by, setBy] = useState(String(TRIGGER_DEFAULTS.by))
  const [sender, setSender] = useState<string>(TRIGGER_DEFAULTS.sender)
  const [secret, setSecret] = useState('')
  const [allowIps, setAllowIps] = useState('')
  const [envFromQuery, setEnvFromQuery] = useState('')
  const [match, setMatch] = useState(EMPTY_MATCH)
  const [matchErrors, setMatchErrors] = useState<Record<string, string>>({})
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    setMatchErrors({})
    let conditions
    try {
      conditions = matchBody(match)
    } catch {
      setMatchErrors({ match: 'is not valid JSON; write an object, or empty it for none' })
      setBusy(false)
      return
    }
    const body: Record<string, unknown> = {
      action,
      sender,
      allowIps: splitList(allowIps),
      envFromQuery: splitList(envFromQuery),
      match: conditions,
    }
    if (name.trim()) {
      body.name = name.trim()
    }
    if (action !== 'redeploy') {
      body.by = Number(by)
    }
    if (secret) {
      body.secret = secret
    }
    try {
      const created = await post<{ name: string; url: string; sender: string; hasSecret: boolean }>(
        `/${owner.kind}/${encodeURIComponent(owner.name)}/triggers`,
        body,
      )
      onCreated(created)
    } catch (caught) {
      // A condition's problem sits under its row; the rest (name, secret, …) above the buttons.
      const problems = caught instanceof ApiError ? caught.problems : []
      const sorted = sortMatchProblems(match, problems)
      setMatchErrors(sorted.byField)
      const placed = Object.keys(sorted.byField).length > 0
      const rest = sorted.others.map((p) => `${p.path.join('.')}: ${p.message}`)
      setError(
        !placed
          ? errorText(caught)
          : rest.length > 0
            ? rest.join('; ')
            : 'Nothing was added: fix the conditions marked above.',
      )
      setBusy(false)
    }
  }

  return (
    <Dialog title={`Add a trigger to ${owner.name}`} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        {owner.kind === 'stacks' && <SubsetNote stack={owner.name} members={members ?? []} />}
        <Field id="trigger-name" label="Name" hint={`optional; defaults to ${action}`}>
          <input
            id="trigger-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder={action}
            autoFocus
          />
        </Field>
        <div className="row">
          <Field id="trigger-action" label="Action">
            <select id="trigger-action" value={action} onChange={(e) => setAction(e.target.value)}>
              {ACTIONS.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </Field>
          <Field id="trigger-by" label="By (replicas)">
            <input
              id="trigger-by"
              type="number"
              min={1}
              max={1000}
              value={by}
              onChange={(e) => setBy(e.target.value)}
              disabled={action === 'redeploy'}
            />
          </Field>
          <Field id="trigger-sender" label="Sender">
            <select id="trigger-sender" value={sender} onChange={(e) => setSender(e.target.value)}>
              {SENDER_IDS.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </Field>
        </div>
        <Field
          id="trigger-secret"
          label="Secret"
          hint="optional; signed senders verify calls with it"
        >
          <input
            id="trigger-secret"
            type="password"
            autoComplete="new-password"
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
          />
        </Field>
        <Field
          id="trigger-ips"
          label="Allowed IPs"
          hint="optional; addresses or CIDR ranges, comma separated"
        >
          <input
            id="trigger-ips"
            value={allowIps}
            onChange={(e) => setAllowIps(e.target.value)}
            placeholder="203.0.113.0/24"
          />
        </Field>
        <Field
          id="trigger-env"
          label="Env from query"
          hint="optional; variables a caller may set, comma separated"
        >
          <input
            id="trigger-env"
            value={envFromQuery}
            onChange={(e) => setEnvFromQuery(e.target.value)}
            placeholder="SERVICE_TAG"
          />
        </Field>
        <MatchEditor draft={match} errors={matchErrors} onChange={setMatch} />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="buttons">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            {busy ? 'Adding…' : 'Add trigger'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}

/** How a stack trigger's caller narrows a call to some of the stack's services. */
export function SubsetNote({ stack, members }: { stack: string; members: string[] }) {
  const example = members.slice(0, 2).join(',') || 'web,worker'
  return (
    <p className="notice">
      A call to this URL deploys every service of {stack}
      {members.length > 0 && ` (${members.join(', ')})`}. To deploy only some of them, add{' '}
      <code>?services={example}</code> to the URL.
    </p>
  )
}
