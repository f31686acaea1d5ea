// One service: what runs now, manual redeploy and scale, its freeze, and tabs for triggers,
// deployments, settings.
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react'

import { errorText, post } from './api.ts'
import { AwaitingApproval } from './AwaitingApproval.tsx'
import { DeploymentsTab } from './DeploymentsTab.tsx'
import { FreezeBanner } from './FreezeBanner.tsx'
import { FreezeAction } from './FreezeDialog.tsx'
import { FrozenBadge } from './FrozenBadge.tsx'
import { InstancesTable } from './InstancesTable.tsx'
import { LastDeployment } from './LastDeployment.tsx'
import { PageHead } from './PageHead.tsx'
import { readyText } from './ReadyCount.tsx'
import { Link, navigate, useFlash } from './router.tsx'
import { SettingsTab } from './SettingsTab.tsx'
import { TriggersTab } from './TriggersTab.tsx'
import { type Deployment, isFinal, type Service } from './types.ts'
import { useApi } from './use-api.ts'

export const SERVICE_TABS = ['triggers', 'deployments', 'settings'] as const
type Tab = (typeof SERVICE_TABS)[number]
const TABS = SERVICE_TABS
const TAB_LABELS: Record<Tab, string> = {
  triggers: 'Triggers',
  deployments: 'Deployments',
  settings: 'Settings',
}

interface Accepted {
  status: 'queued' | 'held' | 'awaiting-approval' | 'ignored'
  reason?: string
  /** Why the deployment is held, when it is. */
  message?: string
  deployments?: { id: string; coalesced: boolean }[]
}

export function ServicePage({ name, tab }: { name: string; tab: Tab }) {
  const service = useApi<Service>(`/services/${encodeURIComponent(name)}`, 3000)
  const base = `/services/${encodeURIComponent(name)}`
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([])
  const flash = useFlash()

  const onTabKey = (event: KeyboardEvent, index: number) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0
    const jump = event.key === 'Home' ? 0 : event.key === 'End' ? TABS.length - 1 : undefined
    if (step !== 0 || jump !== undefined) {
      event.preventDefault()
      const next = jump ?? (index + step + TABS.length) % TABS.length
      navigate(`${base}/${TABS[next]}`)
      tabRefs.current[next]?.focus()
    }
  }

  return (
    <section>
      <PageHead
        parent={{ to: '/', label: 'Services' }}
        name={name}
        flash={flash}
        error={service.error}
      />
      <p className="awaiting-line">
        <AwaitingApproval service={name} intervalMs={3000} />
        <FrozenBadge freeze={service.data?.freeze} />
      </p>
      {service.data && <FreezeBanner service={service.data} onChanged={service.reload} />}
      {service.data && <ServiceSummary service={service.data} onChanged={service.reload} />}
      <div role="tablist" aria-label="Service sections" className="tabs">
        {TABS.map((t, index) => (
          <button
            key={t}
            ref={(el) => {
              tabRefs.current[index] = el
            }}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`panel-${t}`}
            tabIndex={tab === t ? 0 : -1}
            onClick={() => navigate(`${base}/${t}`)}
            onKeyDown={(e) => onTabKey(e, index)}
          >
            {TAB_LABELS[t]}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'triggers' && <TriggersTab owner={{ kind: 'services', name }} />}
        {tab === 'deployments' && <DeploymentsTab service={name} />}
        {tab === 'settings' &&
          (service.data ? (
            <SettingsTab service={service.data} onSaved={service.reload} />
          ) : (
            <p className="muted">Loading…</p>
          ))}
      </div>
    </section>
  )
}

/** What runs, as the runtime reports it; what Deckhand last set when the runtime cannot say. */
function imageText(service: Service): string {
  const running = service.status?.image
  if (running) {
    return running
  }
  if (service.image) {
    return `${service.image}${service.tag ? `:${service.tag}` : ''}`
  }
  return service.tag ?? '—'
}

function ServiceSummary({ service, onChanged }: { service: Service; onChanged: () => void }) {
  // A count Deckhand never set starts at what the runtime runs, not at scale.min.
  const shown = service.replicas ?? service.status?.replicas ?? service.scale.min
  const [replicas, setReplicas] = useState(String(shown))
  const [message, setMessage] = useState<{ text: string; id?: string; isError?: boolean }>()
  const [busy, setBusy] = useState(false)
  // A scale made elsewhere (a trigger, the CLI) moves the field to the new count.
  useEffect(() => setReplicas(String(shown)), [shown])

  const request = async (body: unknown) => {
    setBusy(true)
    try {
      const answer = await post<Accepted>(
        `/services/${encodeURIComponent(service.name)}/deployments`,
        body,
      )
      const first = answer.deployments?.[0]
      setMessage(
        first
          ? { text: acceptedText(answer, first.coalesced), id: first.id }
          : { text: `Nothing to do: ${answer.reason ?? 'ignored'}` },
      )
      onChanged()
    } catch (caught) {
      setMessage({ text: errorText(caught), isError: true })
    } finally {
      setBusy(false)
    }
  }

  const scale = (event: FormEvent) => {
    event.preventDefault()
    void request({ action: 'scale', replicas: Number(replicas) })
  }

  const observed = service.status?.replicas
  return (
    <div className="summary">
      <dl>
        <div>
          <dt>Driver</dt>
          <dd>{service.driver}</dd>
        </div>
        <div>
          <dt>Ready</dt>
          <dd data-ready={service.name}>{readyText(service.status) || '—'}</dd>
        </div>
        <div>
          <dt>Replicas</dt>
          <dd>
            {service.replicas ?? 'set by the runtime'}
            {observed !== undefined &&
              observed !== null &&
              observed !== service.replicas &&
              ` (runtime reports ${observed})`}
          </dd>
        </div>
        <div>
          <dt>Image</dt>
          <dd data-testid="service-image">{imageText(service)}</dd>
        </div>
        <div>
          <dt>Last deployment</dt>
          <dd>
            <LastDeployment service={service.name} intervalMs={2000} live />
          </dd>
        </div>
      </dl>
      <h2 className="summary-title">Instances</h2>
      <InstancesTable
        items={service.status?.items ?? []}
        detail={service.status?.error ?? service.status?.detail}
      />
      <div className="actions">
        <button type="button" onClick={() => void request({ action: 'redeploy' })} disabled={busy}>
          Redeploy
        </button>
        <form onSubmit={scale} className="inline">
          <label htmlFor="replicas">Replicas</label>
          <input
            id="replicas"
            type="number"
            min={service.scale.min}
            max={service.scale.max}
            value={replicas}
            onChange={(e) => setReplicas(e.target.value)}
          />
          <button type="submit" className="secondary" disabled={busy}>
            Scale
          </button>
        </form>
        <FreezeAction service={service} onChanged={onChanged} />
      </div>
      {message && message.id && (
        <DeploymentBanner key={message.id} id={message.id} text={message.text} />
      )}
      {message && !message.id && (
        <p className={message.isError ? 'error' : 'notice'} role="status">
          {message.text}
        </p>
      )}
    </div>
  )
}

/** What a manual deployment's 202 says: queued, held (and why), or waiting for approvals. */
function acceptedText(answer: Accepted, coalesced: boolean): string {
  if (answer.status === 'held') {
    return `Deployment held${answer.message ? ` (${answer.message})` : ''}`
  }
  if (answer.status === 'awaiting-approval') {
    return 'Deployment awaiting approval'
  }
  return coalesced ? 'Joined the queued deployment' : 'Deployment queued'
}

/**
 * "Deployment queued" while it is queued or running; once it ends, the banner says how it
 * ended instead, so it never claims a deployment is pending that is long over.
 */
function DeploymentBanner({ id, text }: { id: string; text: string }) {
  const [ended, setEnded] = useState<Deployment>()
  const polled = useApi<Deployment>(ended ? null : `/deployments/${encodeURIComponent(id)}`, 1000)
  useEffect(() => {
    if (polled.data && isFinal(polled.data.state)) {
      setEnded(polled.data)
    }
  }, [polled.data])
  const failed = ended && ended.state !== 'succeeded'
  return (
    <p className={failed ? 'error' : 'notice'} role="status" data-testid="deployment-banner">
      {ended ? `Deployment ${ended.state}` : text}
      {': '}
      <Link to={`/deployments/${id}`}>{id}</Link>
    </p>
  )
}
