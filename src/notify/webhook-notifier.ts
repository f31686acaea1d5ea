// Outgoing webhooks: a service's `notify` list and DECKHAND_NOTIFY_URLS hear of every start and end.
import type { Deployment, NotifyTarget, Service } from '../model/index.ts'
import { hmacHex } from '../senders/signature.ts'
import type { NotifierContext } from './notifier.ts'
import { describeOutcome } from './notifier.ts'

type DeploymentEvent = 'deployment:started' | 'deployment:finished'

/** Reads DECKHAND_NOTIFY_URLS: a comma list of http(s) URLs told in JSON, unsigned. */
export function readNotifyUrls(value: string | undefined): NotifyTarget[] {
  return (value ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
    .map((url) => ({ url, format: 'json' as const }))
}

/** The JSON body: the event and the deployment as the API shows it (never its input). */
export function webhookJsonBody(
  event: DeploymentEvent,
  deployment: Deployment,
  url: string,
): string {
  const {
    id,
    service,
    action,
    state,
    params,
    calls,
    triggerId,
    createdAt,
    startedAt,
    finishedAt,
    error,
  } = deployment
  return JSON.stringify({
    event,
    deployment: {
      id,
      service,
      action,
      state,
      params,
      calls,
      triggerId,
      createdAt,
      startedAt,
      finishedAt,
      error,
    },
    url,
  })
}

/** Slack's incoming-webhook body: one line of mrkdwn. */
export function webhookSlackBody(deployment: Deployment, url: string): string {
  return JSON.stringify({
    text: `Deckhand: ${describeOutcome(deployment)} (<${url}|${deployment.id}>)`,
  })
}

/** Subscribes to started and finished; returns the unsubscribe function. */
export function startWebhooks(
  context: NotifierContext,
  globalTargets: readonly NotifyTarget[],
): () => void {
  const { events, poster, deploymentUrl } = context
  const send = (event: DeploymentEvent, deployment: Deployment, service: Service | undefined) => {
    const url = deploymentUrl(deployment)
    for (const target of [...(service?.notify ?? []), ...globalTargets]) {
      const body =
        target.format === 'slack'
          ? webhookSlackBody(deployment, url)
          : webhookJsonBody(event, deployment, url)
      const headers: Record<string, string> = {}
      if (target.secret !== undefined && target.format === 'json') {
        headers['x-deckhand-signature'] = `sha256=${hmacHex('sha256', target.secret, body)}`
      }
      // One chain per deployment and target keeps each receiver's start before its end.
      poster.enqueue(`${deployment.id} ${target.url}`, () =>
        poster.post({
          url: target.url,
          body,
          headers,
          what: `${target.format} webhook`,
          deploymentId: deployment.id,
        }),
      )
    }
  }
  const offStarted = events.on('deployment:started', ({ deployment, service }) =>
    send('deployment:started', deployment, service),
  )
  const offFinished = events.on('deployment:finished', ({ deployment, service }) =>
    send('deployment:finished', deployment, service),
  )
  return () => {
    offStarted()
    offFinished()
  }
}
