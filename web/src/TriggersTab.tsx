// The triggers of a service or a stack: add one, rotate its URL, revoke it; a URL is shown once, in a dialog.
import { useState } from 'react'
import { api, errorText, post } from './api.ts'
import { ConfirmDialog } from './Dialog.tsx'
import { formatTime } from './format.ts'
import { Empty } from './StateBadge.tsx'
import { TriggerForm } from './TriggerForm.tsx'
import type { Page, Trigger, TriggerOwner } from './types.ts'
import { UrlDialog } from './UrlDialog.tsx'
import { useApi } from './use-api.ts'

type Pending = { kind: 'revoke' | 'rotate'; trigger: Trigger }

export function TriggersTab({ owner, members }: { owner: TriggerOwner; members?: string[] }) {
  const path = `/${owner.kind}/${encodeURIComponent(owner.name)}/triggers?limit=1000`
  const triggers = useApi<Page<Trigger>>(path)
  const [adding, setAdding] = useState(false)
  const [shown, setShown] = useState<{ name: string; url: string }>()
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
        setShown({ name: trigger.name, url: rotated.url })
      }
    } catch (caught) {
      setError(errorText(caught))
    }
    triggers.reload()
  }

  const active = triggers.data?.items.filter((t) => !t.revokedAt) ?? []
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
        <Empty title="No triggers yet">
          A trigger is a secret URL that deploys {owner.name} when CI, an image registry or an alert
          calls it. Press <strong>Add trigger</strong> to make one.
        </Empty>
      )}
      {active.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Action</th>
                <th scope="col">Sender</th>
                <th scope="col">Secret</th>
                <th scope="col">Allowed IPs</th>
                <th scope="col">Env from query</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Manage</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {active.map((t) => (
                <tr key={t.id} data-trigger={t.name}>
                  <td>{t.name}</td>
                  <td>
                    {t.by > 1 && t.action !== 'redeploy' ? `${t.action} by ${t.by}` : t.action}
                  </td>
                  <td>{t.sender}</td>
                  <td>{t.hasSecret ? 'yes' : 'no'}</td>
                  <td>{t.allowIps.length ? t.allowIps.join(', ') : 'any'}</td>
                  <td>{t.envFromQuery.length ? t.envFromQuery.join(', ') : '—'}</td>
                  <td>{formatTime(t.createdAt)}</td>
                  <td className="row-buttons">
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
          onCreated={(name, url) => {
            setAdding(false)
            setShown({ name, url })
            triggers.reload()
          }}
        />
      )}
      {shown && (
        <UrlDialog
          name={shown.name}
          url={shown.url}
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
