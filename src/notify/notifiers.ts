// Starts every notifier on the event bus; the server calls this once and closes it on stop.
import type { Logger } from 'pino'

import type { EventBus } from '../events.ts'
import type { Deployment, NotifyTarget } from '../model/index.ts'
import type { LogStore } from '../store/store.ts'
import { type CommitStatusOptions, startCommitStatuses } from './commit-statuses.ts'
import { startDockerHubCallbacks } from './docker-hub-callback.ts'
import { startGitHubDeployments } from './github-deployments.ts'
import { NotifyPoster } from './notify-post.ts'
import type { CallbackHosts } from './outgoing-policy.ts'
import { startWebhooks } from './webhook-notifier.ts'

export interface NotifyOptions {
  /** DECKHAND_NOTIFY_URLS, told of every deployment. */
  globalTargets: readonly NotifyTarget[]
  /** Waits before each retry; its length bounds the retries. */
  retryDelaysMs?: readonly number[]
}

export interface Notifiers {
  /** Unsubscribes, lets notifications under way finish within `graceMs`, abandons the rest. */
  close(graceMs: number): Promise<void>
}

export function startNotifiers(
  options: NotifyOptions & {
    events: EventBus
    logger: Logger
    publicUrl: () => string
    callbackHosts: CallbackHosts
    /** The part of the store notifiers write to: a deployment's log. */
    logs: Pick<LogStore, 'appendLog'>
    /** The tokens and the services of commit statuses on GitLab, Gitea and Bitbucket. */
    statuses: CommitStatusOptions
  },
): Notifiers {
  const poster = new NotifyPoster({
    logger: options.logger,
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
  })
  const context = {
    events: options.events,
    poster,
    deploymentUrl: (deployment: Deployment) =>
      `${options.publicUrl()}/api/v1/deployments/${deployment.id}`,
    // The UI's page, not the API's: a person following a git host's link has no bearer token.
    deploymentPageUrl: (deployment: Deployment) =>
      `${options.publicUrl()}/deployments/${deployment.id}`,
    callbackHosts: options.callbackHosts,
    note: (deploymentId: string, line: string) =>
      options.logs
        .appendLog(deploymentId, [{ at: new Date().toISOString(), stream: 'deckhand', line }])
        .catch((error: unknown) => {
          options.logger.error(
            { err: error, deployment: deploymentId },
            'could not write to the deployment log',
          )
        }),
  }
  const stops = [
    startDockerHubCallbacks(context),
    startGitHubDeployments(context),
    startCommitStatuses(context, options.statuses),
    startWebhooks(context, options.globalTargets),
  ]
  return {
    async close(graceMs) {
      for (const stop of stops) {
        stop()
      }
      await poster.close(graceMs)
    },
  }
}
