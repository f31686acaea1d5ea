/**
 * Reports deployments of services with a `gitlab`, `gitea` or `bitbucket` block as statuses of
 * the call's commit: pending when queued, running when started, then the outcome.
 *
 * Only the path comes from the call: the repository (when the service names none) and the
 * commit, both checked and URL-encoded. The host is the block's `apiUrl`, which the operator
 * wrote, or the host's public API; a payload's project URL never chooses where a token goes.
 */
import { repositoryName } from '../calls/resolve-call.ts'
import type { Deployment, DeploymentInput, Service, StatusHost } from '../model/index.ts'
import { STATUS_HOSTS } from '../model/index.ts'
import { knownSecrets } from '../model/secret-redactor.ts'
import { bitbucketStatus } from './bitbucket-status.ts'
import { giteaStatus } from './gitea-status.ts'
import { gitlabStatus } from './gitlab-status.ts'
import type { NotifierContext } from './notifier.ts'
import { describeOutcome } from './notifier.ts'
import { originOf } from './notify-post.ts'

/** Where a deployment is, in the words every host's states are mapped from. */
export type StatusPhase = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled'

/** What one status says, before a host words it. */
export interface StatusContent {
  phase: StatusPhase
  service: string
  description: string
  /** The deployment's page in Deckhand's UI, on DECKHAND_PUBLIC_URL. */
  link: string
  branch: string | undefined
}

/** One git host's commit-status API. */
export interface StatusApi {
  host: StatusHost
  /** The API root when a block names none; undefined when the host has no public instance. */
  defaultApiUrl: string | undefined
  /** The most path parts a repository name has there (GitLab nests groups). */
  maxRepositoryParts: number
  /** The host's word for each phase. */
  states: Readonly<Record<StatusPhase, string>>
  /** The request that posts `status`; `repository` is checked, `commit` lower-case hex. */
  request(input: {
    apiUrl: string
    repository: readonly string[]
    commit: string
    token: string
    username: string | undefined
    status: StatusContent
  }): { url: string; headers: Record<string, string>; body: Record<string, unknown> }
}

const APIS: Readonly<Record<StatusHost, StatusApi>> = {
  gitlab: gitlabStatus,
  gitea: giteaStatus,
  bitbucket: bitbucketStatus,
}

export interface CommitStatusOptions {
  /** The status tokens of Deckhand's environment by variable name (settings.statusTokens). */
  tokens: ReadonlyMap<string, string>
  /** A queued deployment's event carries no service: its blocks are read from the store. */
  services: { getService(name: string): Promise<Service | undefined> }
}

/** At most 64 hex digits (SHA-256 repositories); 7 is git's shortest abbreviation. */
const COMMIT = /^[0-9a-f]{7,64}$/i
/** One part of a repository path; a part of dots only would climb the API's path. */
const REPOSITORY_PART = /^[A-Za-z0-9_.-]{1,100}$/
/** Pending statuses remembered; a deployment another instance runs never finishes here. */
const MAX_REMEMBERED = 10_000

type GitInput = Pick<DeploymentInput, 'gitCommit' | 'gitRepository' | 'gitBranch'>

/** Subscribes to queued, started and finished; returns the unsubscribe function. */
export function startCommitStatuses(
  context: NotifierContext,
  options: CommitStatusOptions,
): () => void {
  const { events, poster, note } = context
  knownSecrets.remember(...options.tokens.values())
  // The commit each pending status went to: a call for a newer commit may join the queued
  // deployment, and the older commit's status must not stay pending for ever.
  const pendingInputs = new Map<string, GitInput>()

  const report = async (
    deployment: Deployment,
    service: Service,
    phase: StatusPhase,
    input: GitInput,
  ) => {
    for (const host of STATUS_HOSTS) {
      const block = service[host]
      if (!block) {
        continue
      }
      const api = APIS[host]
      const what = `${host} commit status`
      const target = targetOf(api, service, input)
      if (!target.ok) {
        if (target.reason) {
          await note(deployment.id, `${what} not posted: ${target.reason}`)
        }
        continue
      }
      const token = options.tokens.get(block.tokenEnv)
      if (!token) {
        const unset = `${block.tokenEnv} is not set in Deckhand's environment`
        await note(deployment.id, `${what} not posted: ${unset}`)
        continue
      }
      const request = api.request({
        apiUrl: block.apiUrl ?? api.defaultApiUrl ?? '',
        repository: target.repository,
        commit: target.commit,
        token,
        username: block.username,
        status: {
          phase,
          service: service.name,
          description: describeStatus(deployment, input),
          link: context.deploymentPageUrl(deployment),
          branch: input.gitBranch ?? undefined,
        },
      })
      const result = await poster.post({
        url: request.url,
        body: JSON.stringify(request.body),
        headers: { accept: 'application/json', ...request.headers },
        what,
        deploymentId: deployment.id,
      })
      if (!result.ok) {
        const where = originOf(request.url)
        await note(deployment.id, `${what} ${phase} to ${where} not posted: ${result.reason}`)
      }
    }
  }

  /** Closes the status of the commit a joined call replaced, once. */
  const closeSuperseded = async (deployment: Deployment, service: Service) => {
    const pending = pendingInputs.get(deployment.id)
    pendingInputs.delete(deployment.id)
    if (pending && pending.gitCommit !== deployment.input.gitCommit) {
      await report(deployment, service, 'canceled', pending)
    }
  }

  const offQueued = events.on('deployment:queued', ({ deployment }) => {
    poster.enqueue(deployment.id, async () => {
      const service = await options.services.getService(deployment.service)
      if (!service || !STATUS_HOSTS.some((host) => service[host])) {
        return
      }
      pendingInputs.set(deployment.id, deployment.input)
      if (pendingInputs.size > MAX_REMEMBERED) {
        pendingInputs.delete(pendingInputs.keys().next().value!)
      }
      await report(deployment, service, 'pending', deployment.input)
    })
  })
  const offStarted = events.on('deployment:started', ({ deployment, service }) => {
    poster.enqueue(deployment.id, async () => {
      await closeSuperseded(deployment, service)
      await report(deployment, service, 'running', deployment.input)
    })
  })
  const offFinished = events.on('deployment:finished', ({ deployment, service }) => {
    poster.enqueue(deployment.id, async () => {
      const phase = FINAL_PHASES[deployment.state as keyof typeof FINAL_PHASES]
      if (!service || !phase) {
        pendingInputs.delete(deployment.id)
        return
      }
      await closeSuperseded(deployment, service)
      await report(deployment, service, phase, deployment.input)
    })
  })
  return () => {
    offQueued()
    offStarted()
    offFinished()
  }
}

const FINAL_PHASES = { succeeded: 'succeeded', failed: 'failed', canceled: 'canceled' } as const

/** `redeploy of web to 1.4 queued` (… started, … failed: why), or what superseded a commit. */
function describeStatus(deployment: Deployment, input: GitInput): string {
  if (input.gitCommit !== deployment.input.gitCommit) {
    const newer = deployment.input.gitCommit?.slice(0, 12) ?? 'no commit'
    return `${deployment.action} of ${deployment.service} moved on to ${newer}`
  }
  return describeOutcome(deployment)
}

type Target = { ok: true; repository: string[]; commit: string } | { ok: false; reason?: string }

/**
 * The repository the service names (its `git.repo`, as pushes name it), else the call's; the
 * call's commit. No commit (a registry push, a deployment from the API) is no status, silently.
 */
function targetOf(api: StatusApi, service: Service, input: GitInput): Target {
  const commit = input.gitCommit
  if (!commit) {
    return { ok: false }
  }
  if (!COMMIT.test(commit)) {
    return { ok: false, reason: `the commit ${quoteShort(commit)} is not 7 to 64 hex digits` }
  }
  const repo = service.git?.repo
  const own = repo === undefined ? undefined : repositoryParts(api, repositoryName(repo))
  const called = input.gitRepository ? repositoryParts(api, input.gitRepository) : undefined
  const repository = own ?? called
  if (!repository) {
    const named = repo ?? input.gitRepository
    const form = api.maxRepositoryParts === 2 ? 'owner/name' : 'group/…/project'
    return {
      ok: false,
      reason: named
        ? `${quoteShort(named)} is not a ${api.host} repository path (${form})`
        : 'neither the service (git.repo) nor the call names the repository',
    }
  }
  return { ok: true, repository, commit: commit.toLowerCase() }
}

function repositoryParts(api: StatusApi, name: string): string[] | undefined {
  const parts = name.split('/')
  const fits = parts.length >= 2 && parts.length <= api.maxRepositoryParts
  const valid = parts.every((part) => REPOSITORY_PART.test(part) && !/^\.+$/.test(part))
  return fits && valid ? parts : undefined
}

/** A caller's text in a log line: quoted, and cut so a long one cannot fill the log. */
function quoteShort(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)
}
