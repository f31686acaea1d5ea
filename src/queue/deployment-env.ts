/** What a deployment hands its driver: the tag and the section-4 environment of new instances. */
import { changeWithTag, type GitBuild, type RedeployChange } from '../drivers/driver.ts'
import type { Deployment, Service } from '../model/index.ts'

/** The deployment's params.tag is the change's tag; DECKHAND_IMAGE_TAG follows (changeWithTag). */
export function redeployChange(
  service: Service,
  deployment: Deployment,
  build?: GitBuild,
): RedeployChange {
  const change = { tag: undefined, env: deploymentEnv(deployment), ...(build ? { build } : {}) }
  return changeWithTag(change, deployment.params.tag, service.tag)
}

function deploymentEnv(deployment: Deployment): Record<string, string> {
  const { input } = deployment
  const env: Record<string, string> = { ...input.env, DECKHAND_DEPLOYMENT_ID: deployment.id }
  if (input.triggerName !== null) {
    env.DECKHAND_TRIGGER_NAME = input.triggerName
  }
  if (input.body !== null) {
    env.DECKHAND_TRIGGER_BODY = input.body
  }
  if (input.gitCommit) {
    env.DECKHAND_GIT_COMMIT = input.gitCommit
  }
  if (input.gitBranch) {
    env.DECKHAND_GIT_BRANCH = input.gitBranch
  }
  return env
}
