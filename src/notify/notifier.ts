// What every notifier gets from the server, and the words it uses for a deployment's outcome.
import type { EventBus } from '../events.ts'
import type { Deployment } from '../model/index.ts'
import type { NotifyPoster } from './notify-post.ts'
import type { CallbackHosts } from './outgoing-policy.ts'

export interface NotifierContext {
  events: EventBus
  poster: NotifyPoster
  /** Where a person sees the deployment: its API URL on this server's public URL. */
  deploymentUrl(deployment: Deployment): string
  /** The deployment's page in the UI, on the public URL: what a git host's status links to. */
  deploymentPageUrl(deployment: Deployment): string
  /** DECKHAND_CALLBACK_HOSTS: where a URL from a call may be called. */
  callbackHosts: CallbackHosts
  /** Adds a Deckhand line to a deployment's log; never throws. */
  note(deploymentId: string, line: string): Promise<void>
}

/** GitHub and Docker Hub cap descriptions at 140 characters. */
const MAX_DESCRIPTION = 140

/** `redeploy of web to 1.4 started`, `… succeeded`, `… failed: exit 3`, cut to 140 characters. */
export function describeOutcome(deployment: Deployment): string {
  const tag = deployment.params.tag === undefined ? '' : ` to ${deployment.params.tag}`
  const error = deployment.error ? `: ${deployment.error.split('\n')[0]}` : ''
  const state = deployment.state === 'running' ? 'started' : deployment.state
  const text = `${deployment.action} of ${deployment.service}${tag} ${state}${error}`
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text
}
