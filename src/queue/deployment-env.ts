/** The section-4 environment a deployment's new instances receive. */
import type { Deployment, Service } from '../model/index.ts'

export function deploymentEnv(service: Service, deployment: Deployment): Record<string, string> {
  const { input, params } = deployment
  const env: Record<string, string> = { ...input.env, DECKHAND_DEPLOYMENT_ID: deployment.id }
  if (input.triggerName !== null) {
    env.DECKHAND_TRIGGER_NAME = input.triggerName
  }
  if (input.body !== null) {
    env.DECKHAND_TRIGGER_BODY = input.body
  }
  const tag = params.tag ?? service.tag
  if (tag) {
    env.DECKHAND_IMAGE_TAG = tag
  }
  if (input.gitCommit) {
    env.DECKHAND_GIT_COMMIT = input.gitCommit
  }
  if (input.gitBranch) {
    env.DECKHAND_GIT_BRANCH = input.gitBranch
  }
  return env
}
