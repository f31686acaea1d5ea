// One deployment: its state (kept fresh), its log streamed live over SSE, its votes, why it is
// held, Start now and cancel.
import { useEffect, useRef, useState } from 'react'

import { apiFetch, errorText, post } from './api.ts'
import { ApprovalPanel } from './ApprovalPanel.tsx'
import { formatDuration, formatFullTime, formatTime } from './format.ts'
import { HoldPanel } from './HoldPanel.tsx'
import { Link } from './router.tsx'
import { readEvents } from './sse.ts'
import { StateBadge } from './StateBadge.tsx'
import { TriedChange } from './TriedChange.tsx'
import { type Deployment, type DeploymentCause, isFinal, type LogLine } from './types.ts'
import { useApi } from './use-api.ts'

export function DeploymentPage({ id }: { id: string }) {
  const [ended, setEnded] = useState<Deployment>()
  // Poll until final: the log stream only says when the deployment ends, not when it starts running.
  const polled = useApi<Deployment>(ended ? null : `/deployments/${encodeURIComponent(id)}`, 1000)
  const deployment = ended ?? polled.data
  // Read once on its own: the poll stops as soon as the log stream says the deployment ended,
  // which can be before its first answer, and the stream's end event carries no cause.
  const detail = useApi<Deployment>(`/deployments/${encodeURIComponent(id)}`)
  const { lines, streamError } = useLogStream(id, setEnded)
  const [cancelError, setCancelError] = useState<string>()

  const cancel = async () => {
    setCancelError(undefined)
    try {
      const canceled = await post<Deployment>(`/deployments/${encodeURIComponent(id)}/cancel`)
      if (isFinal(canceled.state)) {
        setEnded(canceled)
      }
      polled.reload()
    } catch (caught) {
      setCancelError(errorText(caught))
    }
  }

  return (
    <section>
      <p className="crumbs">
        <Link to="/">Services</Link>
        {deployment && (
          <>
            {' / '}
            <Link to={`/services/${encodeURIComponent(deployment.service)}/deployments`}>
              {deployment.service}
            </Link>
          </>
        )}{' '}
        / {id}
      </p>
      <h1>
        Deployment <span className="mono">{id}</span>
      </h1>
      {polled.error && !deployment && (
        <p className="error" role="alert">
          {polled.error}
        </p>
      )}
      {deployment && (
        <div className="summary">
          <dl>
            <div>
              <dt>State</dt>
              <dd data-testid="deployment-state">
                <StateBadge state={deployment.state} />
              </dd>
            </div>
            <div>
              <dt>Action</dt>
              <dd>{deployment.action}</dd>
            </div>
            <div>
              <dt>Tag</dt>
              <dd>{deployment.params.tag ?? '—'}</dd>
            </div>
            <div>
              <dt>Calls</dt>
              <dd>{deployment.calls}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{formatTime(deployment.createdAt)}</dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd>{formatDuration(deployment.startedAt, deployment.finishedAt)}</dd>
            </div>
          </dl>
          <CauseLine deployment={deployment} fallback={detail.data?.cause ?? polled.data?.cause} />
          <HoldPanel deployment={deployment} onStarted={() => polled.reload()} />
          {!isFinal(deployment.state) && (
            <div className="actions">
              <button type="button" className="danger" onClick={() => void cancel()}>
                Cancel deployment
              </button>
            </div>
          )}
          {deployment.error && (
            <p className="error deployment-error" data-testid="deployment-error">
              <strong>Error:</strong> {deployment.error}
            </p>
          )}
          <TriedChange tried={deployment.tried} />
          {cancelError && (
            <p className="error" role="alert">
              {cancelError}
            </p>
          )}
          <ApprovalPanel
            deployment={polled.data ?? deployment}
            onVoted={(after) => {
              if (isFinal(after.state)) {
                setEnded(after)
              }
              polled.reload()
            }}
          />
        </div>
      )}
      <h2>Log</h2>
      {streamError && (
        <p className="error" role="alert">
          {streamError}
        </p>
      )}
      <pre className="log" role="log" aria-live="polite" tabIndex={0} aria-label="Deployment log">
        {lines.length === 0 && (
          <span className="muted">
            {deployment && isFinal(deployment.state) ? 'No output.' : 'Waiting for output…'}
          </span>
        )}
        {lines.map((l) => (
          <span key={l.seq} className={`log-${l.stream}`}>
            {l.line}
            {'\n'}
          </span>
        ))}
      </pre>
    </section>
  )
}

/** Where a trigger lives in the UI: its owner's Triggers tab. */
function triggerPath(cause: DeploymentCause): string | undefined {
  if (cause.service) {
    return `/services/${encodeURIComponent(cause.service)}/triggers`
  }
  return cause.stack ? `/stacks/${encodeURIComponent(cause.stack)}` : undefined
}

/** Names what started the deployment: a trigger call (who, from where, which commit) or a person. */
function CauseLine({
  deployment,
  fallback,
}: {
  deployment: Deployment
  fallback?: DeploymentCause
}) {
  const cause = deployment.cause ?? fallback
  if (!cause) {
    return null
  }
  if (!deployment.triggerId) {
    return (
      <p className="cause" data-testid="deployment-cause">
        <strong>Cause:</strong> started by hand (UI, CLI or API), or by a rollback.
      </p>
    )
  }
  const to = triggerPath(cause)
  return (
    <p className="cause" data-testid="deployment-cause">
      <strong>Cause:</strong> trigger{' '}
      {to ? (
        <Link to={to}>{cause.trigger ?? deployment.triggerId}</Link>
      ) : (
        (cause.trigger ?? deployment.triggerId)
      )}
      {cause.stack && ` of stack ${cause.stack}`}
      {cause.sender && <> · sender {cause.sender}</>}
      {cause.remoteAddress && <> · from {cause.remoteAddress}</>}
      {cause.receivedAt && <> · {formatFullTime(cause.receivedAt)}</>}
      {cause.commit && (
        <>
          {' '}
          · commit <span className="mono">{cause.commit.slice(0, 12)}</span>
          {cause.branch && ` on ${cause.branch}`}
          {cause.repository && ` of ${cause.repository}`}
        </>
      )}
      {' · '}
      <Link to={`/calls?trigger=${encodeURIComponent(deployment.triggerId)}`}>
        calls of this trigger
      </Link>
    </p>
  )
}

function useLogStream(id: string, onEnd: (deployment: Deployment) => void) {
  const [lines, setLines] = useState<LogLine[]>([])
  const [streamError, setStreamError] = useState<string>()
  const onEndRef = useRef(onEnd)
  onEndRef.current = onEnd

  useEffect(() => {
    const abort = new AbortController()
    setLines([])
    const run = async () => {
      try {
        const response = await apiFetch(`/deployments/${encodeURIComponent(id)}/log?follow=1`, {
          signal: abort.signal,
        })
        await readEvents(response.body!, ({ event, data }) => {
          if (event === 'log') {
            const line = JSON.parse(data) as LogLine
            setLines((previous) => [...previous, line])
          } else if (event === 'end') {
            onEndRef.current(JSON.parse(data) as Deployment)
          }
        })
      } catch (caught) {
        if (!abort.signal.aborted) {
          setStreamError(`The live log stopped: ${errorText(caught)}. Reload to resume.`)
        }
      }
    }
    void run()
    return () => abort.abort()
  }, [id])

  return { lines, streamError }
}
