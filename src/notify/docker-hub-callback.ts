// Answers Docker Hub's callback_url with the deployment's outcome when it ends (best effort).
import type { Deployment } from '../model/index.ts'
import type { NotifierContext } from './notifier.ts'
import { describeOutcome } from './notifier.ts'
import { originOf } from './notify-post.ts'
import { checkDestination } from './outgoing-policy.ts'

/** Docker Hub's callback states: https://docs.docker.com/docker-hub/repos/manage/webhooks/ */
const STATES = { succeeded: 'success', failed: 'failure', canceled: 'error' } as const

/** The exact body Docker Hub's callback_url expects. */
export function dockerHubCallbackBody(deployment: Deployment, targetUrl: string): string {
  const state = STATES[deployment.state as keyof typeof STATES] ?? 'error'
  return JSON.stringify({
    state,
    description: describeOutcome(deployment),
    context: 'deckhand',
    target_url: targetUrl,
  })
}

/** Subscribes; returns the unsubscribe function. */
export function startDockerHubCallbacks({
  events,
  poster,
  deploymentUrl,
  callbackHosts,
  note,
}: NotifierContext): () => void {
  return events.on('deployment:finished', ({ deployment }) => {
    const url = deployment.input.callbackUrl
    // A rollback copies an old call's input; its callback was answered when that call ended.
    if (!url || deployment.action === 'rollback') {
      return
    }
    // The caller chose this URL: it goes only where DECKHAND_CALLBACK_HOSTS and the address rule allow.
    const destination = checkDestination(url, callbackHosts)
    poster.enqueue(deployment.id, async () => {
      const result = destination.ok
        ? await poster.post({
            url: destination.url.href,
            body: dockerHubCallbackBody(deployment, deploymentUrl(deployment)),
            what: 'docker hub callback',
            deploymentId: deployment.id,
            pinned: { lookup: destination.lookup },
          })
        : poster.refuse(
            { url, what: 'docker hub callback', deploymentId: deployment.id },
            destination.reason,
          )
      if (!result.ok) {
        await note(
          deployment.id,
          `docker hub callback to ${originOf(url)} not delivered: ${result.reason}`,
        )
      }
    })
  })
}
