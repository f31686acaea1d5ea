// Reports deployments of services with a `github` block as GitHub deployments and statuses.
import type { Deployment, GitHubReporting, Service } from '../model/index.ts'
import type { NotifierContext } from './notifier.ts'
import { describeOutcome } from './notifier.ts'

const DEFAULT_API_URL = 'https://api.github.com'

/** Deployment status states: https://docs.github.com/rest/deployments/statuses */
const FINAL_STATES = { succeeded: 'success', failed: 'failure', canceled: 'error' } as const

interface GitHubDeployment {
  statusesUrl: string
  headers: Record<string, string>
}

/** The body of `POST /repos/{owner}/{repo}/deployments` for a Deckhand deployment. */
export function gitHubDeploymentBody(deployment: Deployment, commit: string): string {
  return JSON.stringify({
    ref: commit,
    environment: deployment.service,
    description: `Deckhand ${deployment.action} ${deployment.id}`,
    auto_merge: false,
    required_contexts: [],
    payload: { deckhand_deployment: deployment.id },
  })
}

/** The body of a deployment status. */
export function gitHubStatusBody(state: string, description: string, logUrl: string): string {
  return JSON.stringify({ state, description, log_url: logUrl })
}

/** Subscribes to started and finished; returns the unsubscribe function. */
export function startGitHubDeployments({
  events,
  poster,
  deploymentUrl,
}: NotifierContext): () => void {
  // Filled by the started work; the finished work runs after it on the same chain.
  const created = new Map<string, GitHubDeployment>()

  const create = async (
    deployment: Deployment,
    github: GitHubReporting,
    repo: string,
    commit: string,
  ) => {
    const [owner = '', name = ''] = repo.split('/')
    const api = (github.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '')
    const base = `${api}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/deployments`
    const headers = {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${github.token}`,
      'x-github-api-version': '2022-11-28',
    }
    const answer = await poster.post({
      url: base,
      body: gitHubDeploymentBody(deployment, commit),
      headers,
      what: 'github deployment',
      deploymentId: deployment.id,
    })
    const id = answer.ok ? (JSON.parse(answer.text || '{}') as { id?: unknown }).id : undefined
    if (typeof id !== 'number') {
      return
    }
    const ref = { statusesUrl: `${base}/${id}/statuses`, headers }
    created.set(deployment.id, ref)
    await postStatus(ref, deployment, 'in_progress', describeOutcome(deployment))
  }

  const postStatus = (
    ref: GitHubDeployment,
    deployment: Deployment,
    state: string,
    description: string,
  ) =>
    poster.post({
      url: ref.statusesUrl,
      body: gitHubStatusBody(state, description, deploymentUrl(deployment)),
      headers: ref.headers,
      what: 'github deployment status',
      deploymentId: deployment.id,
    })

  const offStarted = events.on('deployment:started', ({ deployment, service }) => {
    const target = reportingTarget(deployment, service)
    if (target) {
      poster.enqueue(deployment.id, () =>
        create(deployment, target.github, target.repo, target.commit),
      )
    }
  })
  const offFinished = events.on('deployment:finished', ({ deployment }) => {
    poster.enqueue(deployment.id, async () => {
      const ref = created.get(deployment.id)
      created.delete(deployment.id)
      const state = FINAL_STATES[deployment.state as keyof typeof FINAL_STATES]
      if (ref && state) {
        await postStatus(ref, deployment, state, describeOutcome(deployment))
      }
    })
  })
  return () => {
    offStarted()
    offFinished()
  }
}

/** Only a known commit can be a GitHub deployment; the repository is the service's own first. */
function reportingTarget(deployment: Deployment, service: Service) {
  const repo = service.git?.repo ?? deployment.input.gitRepository
  const commit = deployment.input.gitCommit
  if (!service.github || !repo || !commit || !/^[^/]+\/[^/]+$/.test(repo)) {
    return undefined
  }
  return { github: service.github, repo, commit }
}
