// Answers Docker Hub's callback_url with the deployment's outcome when it ends (best effort).
import type { Deployment } from '../model/index.ts'
import type { NotifierContext } from './notifier.ts'
import { describeOutcome } from './notifier.ts'

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
export function startDockerHubCallbacks({ events, poster, deploymentUrl }: NotifierContext): () => void {
  return events.on('deployment:finished', ({ deployment }) => {
    const url = deployment.input.callbackUrl
    // A rollback copies an old call's input; its callback was answered when that call ended.
    if (!url || deployment.action === 'rollback') {
      return
    }
    poster.enqueue(deployment.id, () =>
      poster.post({
        url,
        body: dockerHubCallbackBody(deployment, deploymentUrl(deployment)),
        what: 'docker hub callback',
        deploymentId: deployment.id,
      }),
    )
  })
}
