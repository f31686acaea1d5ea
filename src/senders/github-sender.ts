// GitHub webhooks: ping, push, package / registry_package published, workflow_run succeeded.
import type { Sender, SenderEvent, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import type { JsonObject } from './sender-payload.ts'
import {
  beforeAt,
  changedFilesOf,
  compact,
  deliveryIdOf,
  header,
  ignored,
  invalid,
  isNullCommit,
  normaliseRepository,
  objectAt,
  parseGitRef,
  pathAt,
  quote,
  readJsonBody,
  shown,
  stringAt,
} from './sender-payload.ts'
import { checkHmacHeader } from './signature.ts'

// GitHub sends at most 2048 commits in a push; a push that reaches the cap may list fewer files.
const MAX_PUSH_COMMITS = 2048

const HANDLED_EVENTS = 'ping, push, package, registry_package, workflow_run'

/**
 * Reads a push in the payload shape GitHub, Gitea and Forgejo share. `who` names the sender
 * in reasons ("GitHub push", "Gitea push").
 */
export function readPushPayload(
  payload: JsonObject,
  who: string,
  deliveryId: string | undefined,
): SenderParse {
  const ref = stringAt(payload.ref)
  if (ref === undefined) {
    return invalid(`a ${who} must name its "ref"`)
  }
  const parsed = parseGitRef(ref)
  if ('other' in parsed) {
    return ignored(`${who} to ${quote(ref)} is neither a branch nor a tag`)
  }
  const name = 'branch' in parsed ? `branch ${parsed.branch}` : `tag ${parsed.tag}`
  const after = stringAt(payload.after)
  if (payload.deleted === true || isNullCommit(after)) {
    return ignored(`${who} deleted ${shown(name)}; nothing to deploy`)
  }
  const fullName = stringAt(pathAt(payload, 'repository', 'full_name'))
  const commits = payload.commits
  const commitCount = Array.isArray(commits) ? commits.length : 0
  const event: SenderEvent = {
    kind: 'push',
    repository: fullName === undefined ? undefined : normaliseRepository(fullName),
    branch: 'branch' in parsed ? parsed.branch : undefined,
    tag: 'tag' in parsed ? parsed.tag : undefined,
    commit: after ?? stringAt(pathAt(payload, 'head_commit', 'id')),
    changedFiles: changedFilesOf(commits, commitCount < MAX_PUSH_COMMITS),
    deliveryId,
  }
  return { ok: true, event: compact(event) }
}

/**
 * `package` (repository hooks) and `registry_package` (GitHub Apps) carry the same object.
 * Only tagged container versions deploy: a multi-arch push also publishes one untagged
 * version per platform manifest, and those must not redeploy anything.
 */
function readPackage(
  payload: JsonObject,
  event: string,
  deliveryId: string | undefined,
): SenderParse {
  const action = stringAt(payload.action) ?? 'unknown'
  if (action !== 'published') {
    return ignored(`GitHub ${event} ${quote(action)}; only published versions deploy`)
  }
  const pkg = objectAt(payload[event])
  if (pkg === undefined) {
    return invalid(`a GitHub ${event} event must carry a "${event}" object`)
  }
  const type = (stringAt(pkg.package_type) ?? stringAt(pkg.ecosystem) ?? '').toLowerCase()
  const name = stringAt(pkg.name) ?? 'unknown'
  if (type !== 'container' && type !== 'docker') {
    return ignored(
      `GitHub package ${quote(name)} is ${type === '' ? 'of unknown type' : `a ${shown(type)} package`}, not a container image`,
    )
  }
  const image = imageOfPackage(pkg)
  if (image === undefined) {
    return invalid(`a GitHub ${event} event must name the package and its owner`)
  }
  const version = objectAt(pkg.package_version)
  const tag = stringAt(pathAt(version, 'container_metadata', 'tag', 'name'))
  if (tag === undefined) {
    const digest = stringAt(version?.version) ?? stringAt(version?.name) ?? 'unknown'
    return ignored(
      `GitHub package ${shown(image)} version ${quote(digest)} has no tag (a platform manifest of a multi-arch push); nothing to deploy`,
    )
  }
  const fullName = stringAt(pathAt(payload, 'repository', 'full_name'))
  return {
    ok: true,
    event: compact({
      kind: 'push',
      image,
      tag,
      repository: fullName === undefined ? undefined : normaliseRepository(fullName),
      deliveryId,
    }),
  }
}

/** `url` without a leading `scheme://`, found without a regular expression. */
function withoutScheme(url: string): string {
  const separator = url.indexOf('://')
  return separator > 0 && /^[a-z]+$/i.test(url.slice(0, separator)) ? url.slice(separator + 3) : url
}

/** `ghcr.io/acme/web:1.5.0` → `acme/web`; falls back to the package's namespace and name. */
function imageOfPackage(pkg: JsonObject): string | undefined {
  const url = stringAt(pathAt(pkg, 'package_version', 'package_url'))
  if (url !== undefined) {
    const path = beforeAt(withoutScheme(url))
    const slash = path.indexOf('/')
    const withoutHost = slash === -1 ? '' : path.slice(slash + 1)
    const lastSlash = withoutHost.lastIndexOf('/')
    const colon = withoutHost.indexOf(':', lastSlash)
    const image = colon === -1 ? withoutHost : withoutHost.slice(0, colon)
    if (image.includes('/')) {
      return normaliseRepository(image)
    }
  }
  const namespace = stringAt(pkg.namespace) ?? stringAt(pathAt(pkg, 'owner', 'login'))
  const name = stringAt(pkg.name)
  return namespace === undefined || name === undefined
    ? undefined
    : normaliseRepository(`${namespace}/${name}`)
}

function readWorkflowRun(payload: JsonObject, deliveryId: string | undefined): SenderParse {
  const run = objectAt(payload.workflow_run)
  if (run === undefined) {
    return invalid('a GitHub workflow_run event must carry a "workflow_run" object')
  }
  const name = stringAt(run.name) ?? 'unnamed'
  const branch = stringAt(run.head_branch)
  const action = stringAt(payload.action) ?? 'unknown'
  if (action !== 'completed') {
    return ignored(
      `GitHub workflow run ${quote(name)} is ${quote(action)}; only completed runs deploy`,
    )
  }
  const conclusion = stringAt(run.conclusion) ?? 'unknown'
  if (conclusion !== 'success') {
    return ignored(
      `GitHub workflow run ${quote(name)}${branch === undefined ? '' : ` on ${shown(branch)}`} concluded ${shown(conclusion)}; only successful runs deploy`,
    )
  }
  const repository =
    stringAt(pathAt(run, 'repository', 'full_name')) ??
    stringAt(pathAt(payload, 'repository', 'full_name'))
  const headRepository = stringAt(pathAt(run, 'head_repository', 'full_name'))
  // A fork's pull request can have a head branch called "main": its commit is not ours to deploy.
  if (
    repository !== undefined &&
    headRepository !== undefined &&
    normaliseRepository(repository) !== normaliseRepository(headRepository)
  ) {
    return ignored(
      `GitHub workflow run ${quote(name)} ran on ${shown(normaliseRepository(headRepository))}, a fork; only runs of the repository itself deploy`,
    )
  }
  return {
    ok: true,
    event: compact({
      kind: 'push',
      repository: repository === undefined ? undefined : normaliseRepository(repository),
      branch,
      commit: stringAt(run.head_sha),
      deliveryId,
    }),
  }
}

export class GitHubSender implements Sender {
  readonly id = 'github'

  recognise(request: SenderRequest): boolean {
    return header(request, 'x-github-event') !== undefined
  }

  /** `X-Hub-Signature-256`; the SHA-1 `X-Hub-Signature` only when the SHA-256 one is absent. */
  verify(request: SenderRequest, secret: string): SignatureCheck {
    const sha256 = header(request, 'x-hub-signature-256')
    if (sha256 !== undefined) {
      return checkHmacHeader(sha256, {
        algorithm: 'sha256',
        prefix: 'sha256=',
        secret,
        body: request.body,
      })
    }
    return checkHmacHeader(header(request, 'x-hub-signature'), {
      algorithm: 'sha1',
      prefix: 'sha1=',
      secret,
      body: request.body,
    })
  }

  parse(request: SenderRequest): SenderParse {
    const event = header(request, 'x-github-event')?.toLowerCase()
    if (event === undefined) {
      return invalid('a GitHub delivery must name its event in X-GitHub-Event')
    }
    const body = readJsonBody(request, { formPayload: true })
    if (!body.ok) {
      return invalid(
        `a GitHub ${event.length > 40 ? 'event' : event} must be JSON: ${body.problem}`,
      )
    }
    const deliveryId = deliveryIdOf(request, 'x-github-delivery')
    const payload = body.value
    switch (event) {
      case 'ping': {
        const fullName = stringAt(pathAt(payload, 'repository', 'full_name'))
        return {
          ok: true,
          event: compact({
            kind: 'ping',
            repository: fullName === undefined ? undefined : normaliseRepository(fullName),
            deliveryId,
          }),
        }
      }
      case 'push':
        return readPushPayload(payload, 'GitHub push', deliveryId)
      case 'package':
      case 'registry_package':
        return readPackage(payload, event, deliveryId)
      case 'workflow_run':
        return readWorkflowRun(payload, deliveryId)
      default:
        return ignored(
          `GitHub event ${quote(event)} is not one Deckhand acts on (${HANDLED_EVENTS})`,
        )
    }
  }
}
