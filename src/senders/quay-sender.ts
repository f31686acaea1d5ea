// Quay repository push notifications: the repository and the tags the push updated.
import { compareSemver, parseSemver } from '../policy/semver-policy.ts'
import type { Sender, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import {
  accepted,
  arrayAt,
  deliveryIdOf,
  header,
  ignored,
  invalid,
  jsonObjectBody,
  normaliseRepository,
  readJsonBody,
  shown,
  stringAt,
} from './sender-payload.ts'
import { checkAuthorization } from './signature.ts'

/**
 * One Quay push can update several tags (`1.5.0` and `latest`), and an event carries one.
 * The highest semver tag is the one a versioned service wants; with no semver tag, the
 * first listed. A service that follows `latest` with the force policy should use a Quay
 * notification filtered to that tag.
 */
export function pickQuayTag(tags: readonly string[]): string | undefined {
  let best: { tag: string; version: NonNullable<ReturnType<typeof parseSemver>> } | undefined
  for (const tag of tags) {
    const version = parseSemver(tag)
    if (version !== undefined && (best === undefined || compareSemver(version, best.version) > 0)) {
      best = { tag, version }
    }
  }
  return best?.tag ?? tags[0]
}

export class QuaySender implements Sender {
  readonly id = 'quay'

  recognise(request: SenderRequest): boolean {
    const body = jsonObjectBody(request)
    return typeof body?.docker_url === 'string' && Array.isArray(body.updated_tags)
  }

  /**
   * Quay signs nothing and sends no custom headers; it does send the credentials of a URL
   * like `https://deckhand:<secret>@host/hooks/…` as Basic auth, which verifies.
   */
  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkAuthorization(header(request, 'authorization'), secret)
  }

  parse(request: SenderRequest): SenderParse {
    const body = readJsonBody(request)
    if (!body.ok) {
      return invalid(`a Quay push must be JSON: ${body.problem}`)
    }
    const repository = stringAt(body.value.repository)
    const updated = arrayAt(body.value.updated_tags)
    if (repository === undefined || updated === undefined) {
      return invalid('a Quay push must carry "repository" and "updated_tags"')
    }
    const image = normaliseRepository(repository)
    const tag = pickQuayTag(
      updated.filter((tag): tag is string => typeof tag === 'string' && tag !== ''),
    )
    if (tag === undefined) {
      return ignored(`Quay push to ${shown(image)} updated no tag; nothing to deploy`)
    }
    return accepted({ kind: 'push', image, tag, deliveryId: deliveryIdOf(request) })
  }
}
