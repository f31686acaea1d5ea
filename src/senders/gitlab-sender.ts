// GitLab webhooks: Push Hook, Tag Push Hook and successful Pipeline Hook; a plain secret token.
import type { Sender, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import type { JsonObject } from './sender-payload.ts'
import {
  accepted,
  arrayAt,
  changedFilesOf,
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
import { checkSecretHeader } from './signature.ts'

const HANDLED_EVENTS = 'Push Hook, Tag Push Hook, Pipeline Hook'

// System hooks carry the same payloads under one event name; object_kind tells them apart.
const SYSTEM_HOOK_KINDS: Readonly<Record<string, string>> = {
  push: 'Push Hook',
  tag_push: 'Tag Push Hook',
}

function repositoryOf(payload: JsonObject): string | undefined {
  const path = stringAt(pathAt(payload, 'project', 'path_with_namespace'))
  return path === undefined ? undefined : normaliseRepository(path)
}

function readPush(payload: JsonObject, event: string, deliveryId: string | undefined): SenderParse {
  const ref = stringAt(payload.ref)
  if (ref === undefined) {
    return invalid(`a GitLab ${event} must name its "ref"`)
  }
  const parsed = parseGitRef(ref)
  if ('other' in parsed) {
    return ignored(`GitLab ${event} to ${quote(ref)} is neither a branch nor a tag`)
  }
  const name = 'branch' in parsed ? `branch ${parsed.branch}` : `tag ${parsed.tag}`
  const after = stringAt(payload.after)
  const checkout = stringAt(payload.checkout_sha)
  if (isNullCommit(after) && checkout === undefined) {
    return ignored(`GitLab ${event} deleted ${shown(name)}; nothing to deploy`)
  }
  // GitLab lists at most 20 commits and says how many there were.
  const listed = arrayAt(payload.commits)?.length ?? 0
  const total =
    typeof payload.total_commits_count === 'number' ? payload.total_commits_count : listed
  return accepted({
    kind: 'push',
    repository: repositoryOf(payload),
    branch: 'branch' in parsed ? parsed.branch : undefined,
    tag: 'tag' in parsed ? parsed.tag : undefined,
    commit: checkout ?? after,
    changedFiles: changedFilesOf(payload.commits, listed >= total),
    deliveryId,
  })
}

function readPipeline(payload: JsonObject, deliveryId: string | undefined): SenderParse {
  const attributes = objectAt(payload.object_attributes)
  if (attributes === undefined) {
    return invalid('a GitLab Pipeline Hook must carry "object_attributes"')
  }
  const id = typeof attributes.id === 'number' ? ` ${attributes.id}` : ''
  const ref = stringAt(attributes.ref)
  const on = ref === undefined ? '' : ` on ${shown(ref)}`
  const status = stringAt(attributes.status) ?? 'unknown'
  if (status !== 'success') {
    return ignored(
      `GitLab pipeline${id}${on} is ${shown(status)}; only successful pipelines deploy`,
    )
  }
  // A merge request pipeline tests a merge or a fork's branch, not a ref of this project.
  if (objectAt(payload.merge_request) !== undefined) {
    return ignored(
      `GitLab pipeline${id} ran for a merge request; only branch and tag pipelines deploy`,
    )
  }
  const isTag = attributes.tag === true
  return accepted({
    kind: 'push',
    repository: repositoryOf(payload),
    branch: isTag ? undefined : ref,
    tag: isTag ? ref : undefined,
    commit: stringAt(attributes.sha),
    deliveryId,
  })
}

export class GitLabSender implements Sender {
  readonly id = 'gitlab'

  recognise(request: SenderRequest): boolean {
    return header(request, 'x-gitlab-event') !== undefined
  }

  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkSecretHeader(header(request, 'x-gitlab-token'), secret)
  }

  parse(request: SenderRequest): SenderParse {
    const named = header(request, 'x-gitlab-event')
    if (named === undefined) {
      return invalid('a GitLab delivery must name its event in X-Gitlab-Event')
    }
    const body = readJsonBody(request)
    if (!body.ok) {
      return invalid(
        `a GitLab ${named.length > 40 ? 'event' : named} must be JSON: ${body.problem}`,
      )
    }
    const payload = body.value
    const event =
      named === 'System Hook'
        ? (SYSTEM_HOOK_KINDS[stringAt(payload.object_kind) ?? ''] ?? named)
        : named
    // Idempotency-Key is GitLab's id that stays the same across retries; older GitLab lacks it.
    const deliveryId = deliveryIdOf(request, 'idempotency-key', 'x-gitlab-event-uuid')
    switch (event) {
      case 'Push Hook':
      case 'Tag Push Hook':
        return readPush(payload, event, deliveryId)
      case 'Pipeline Hook':
        return readPipeline(payload, deliveryId)
      default:
        return ignored(
          `GitLab event ${quote(event)} is not one Deckhand acts on (${HANDLED_EVENTS})`,
        )
    }
  }
}
