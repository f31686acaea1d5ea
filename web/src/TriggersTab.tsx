// The triggers of a service or a stack: add one, rotate its URL, revoke it; a URL is shown once, in a dialog.
import { useState } from 'react'

import { api, errorText, post } from './api.ts'
import { describeMatch } from './describe-match.ts'
import { ConfirmDialog } from './Dialog.tsx'
import { formatTime } from './format.ts'
import { Empty } from './StateBadge.tsx'
import { TriggerForm } from './TriggerForm.tsx'
import type { Page, Trigger, TriggerOwner } from './types.ts'
import { UrlDialog } from './UrlDialog.tsx'
import { streamOf, useLiveApi } from './use-service-events.ts'

type Pending = { kind: 'revoke' | 'rotate'; trigger: Trigger }
type Shown = { name: string; url: string; sender: string; hasSecret: boolean }

export function TriggersTab({ owner, members }: { owner: TriggerOwner; members?: string[] }) {
  const path = `/${owner.kind}/${encodeURIComponent(owner.name)}/triggers?limit=1000&includeRevoked=true`
  // Live: a trigger added or revoked elsewhere (CLI, another tab) shows up without a reload.
  const triggers = useLiveApi<Page<Trigger>>(path, streamOf(owner), 'trigger', 3000)
  const [adding, setAdding] = useState(false)
  const [shown, setShown] = useState<Shown>()
  const [pending, setPending] = useState<Pending>()
  const [error, setError] = useState<string>()

  const confirm = async () => {
    if (!pending) {
      return
    }
    const { kind, trigger } = pending
    setPending(undefined)
    setError(undefined)
    try {
      if (kind === 'revoke') {
        await api(`/triggers/${trigger.id}`, { method: 'DELETE' })
      } else {
        const rotated = await post<{ url: string }>(`/triggers/${trigger.id}/rotate`)
        setShown({ ...trigger, url: rotated.url })
      }
    } catch (caught) {
      setError(errorText(caught))
    }
    triggers.reload()
  }

  const all = triggers.data?.items ?? []
  const active = all.filter((t) => !t.revokedAt)
  // Active ones first; revoked ones after them, newest revocation first.
  const listed = [
    ...active,
    ...all.filter((t) => t.revokedAt).sort((a, b) => (b.revokedAt! < a.revokedAt! ? -1 : 1)),
  ]
  return (
    <div>
      <div className="toolbar">
        <button type="button" onClick={() => setAdding(true)}>
          Add trigger
        </button>
      </div>
      {(error ?? triggers.error) && (
        <p className="error" role="alert">
          {error ?? triggers.error}
        </p>
      )}
      {triggers.data && active.length === 0 && (
        <Empty title={all.length === 0 ? 'No triggers yet' : 'No active triggers'}>
          A trigger is a secret URL that deploys {owner.name} when CI, an image registry or an alert
          calls it. Press <strong>Add trigger</strong> to make one.
        </Empty>
      )}
      {listed.length > 0 && (
        <div className="table-wrap">
          <table className="stacked" aria-label="Triggers">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Action</th>
                <th scope="col">Sender</th>
                <th scope="col">Secret</th>
                <th scope="col">Allowed IPs</th>
                <th scope="col">Env from query</th>
                <th scope="col">Conditions</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Manage</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {listed.map((t) => (
                <tr
                  key={t.id}
                  data-trigger={t.name}
                  data-revoked={t.revokedAt ? 'true' : undefined}
                  className={t.revokedAt ? 'revoked' : undefined}
                >
                  <td data-label="Name">{t.name}</td>
                  <td data-label="Action">
                    {t.by > 1 && t.action !== 'redeploy' ? `${t.action} by ${t.by}` : t.action}
                  </td>
                  <td data-label="Sender">{t.sender}</td>
                  <td data-label="Secret">{t.hasSecret ? 'yes' : 'no'}</td>
                  <td data-label="Allowed IPs">
                    {t.allowIps.length ? t.allowIps.join(', ') : 'any'}
                  </td>
                  <td data-label="Env from query">
                    {t.envFromQuery.length ? t.envFromQuery.join(', ') : '—'}
                  </td>
                  <td data-label="Conditions">
                    {t.match ? (
                      <span className="conditions">{describeMatch(t.match)}</span>
                    ) : (
                      'none'
                    )}
                  </td>
                  <td data-label="Created">{formatTime(t.createdAt)}</td>
                  <td data-label="State">
                    {t.revokedAt ? `revoked ${formatTime(t.revokedAt)}` : 'active'}
                  </td>
                  <td className="row-buttons">
                    {!t.revokedAt && (
                      <>
                        <button
                          type="button"
                          className="secondary small"
                          onClick={() => setPending({ kind: 'rotate', trigger: t })}
                        >
                          Rotate<span className="visually-hidden"> {t.name}</span>
                        </button>
                        <button
                          type="button"
                          className="danger small"
                          onClick={() => setPending({ kind: 'revoke', trigger: t })}
                        >
                          Revoke<span className="visually-hidden"> {t.name}</span>
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {adding && (
        <TriggerForm
          owner={owner}
          members={members}
          onClose={() => setAdding(false)}
          onCreated={(created) => {
            setAdding(false)
            setShown(created)
            triggers.reload()
          }}
        />
      )}
      {shown && (
        <UrlDialog
          name={shown.name}
          url={shown.url}
          sender={shown.sender}
          hasSecret={shown.hasSecret}
          stack={owner.kind === 'stacks' ? { name: owner.name, members: members ?? [] } : undefined}
          onClose={() => setShown(undefined)}
        />
      )}
      {pending && (
        <ConfirmDialog
          title={
            pending.kind === 'revoke'
              ? `Revoke ${pending.trigger.name}?`
              : `Rotate ${pending.trigger.name}?`
          }
          confirmLabel={pending.kind === 'revoke' ? 'Revoke' : 'Rotate'}
          onConfirm={() => void confirm()}
          onClose={() => setPending(undefined)}
        >
          <p>
            {pending.kind === 'revoke'
              ? 'Its URL stops working at once: the next call gets 404. This cannot be undone.'
              : 'It gets a new URL, and the current one stops working at once. Update every caller afterwards.'}
          </p>
        </ConfirmDialog>
      )}
    </div>
  )
}
