/**
 * CNCF distribution registry notifications (`registry:2`, Debian's `docker-registry`, GitLab's
 * bundled registry): an envelope of events, of which only pushes of tagged manifests deploy.
 * https://distribution.github.io/distribution/about/notifications/
 */
import { normaliseRegistryHost } from '../model/registry-host.ts'
import { MAX_PUSHES } from './event-limits.ts'
import type { ImagePush, Sender, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import {
  accepted,
  arrayAt,
  deliveryIdOf,
  header,
  ignored,
  invalid,
  jsonObjectBody,
  mediaType,
  normaliseRepository,
  objectAt,
  pathAt,
  quote,
  readJsonBody,
  shown,
  stringAt,
} from './sender-payload.ts'
import { checkAuthorization } from './signature.ts'

export const REGISTRY_EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json'

/** Manifests and indexes an engine runs, Docker v2 and OCI; blobs and schema 1 are not. */
const MANIFEST_MEDIA_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
])

/**
 * The registry sends one event per envelope unless its queue backs up; a backlog is still far
 * below this, and the body limit bounds bytes. More events than this is not a registry.
 */
export const MAX_REGISTRY_EVENTS = 1000

/** Event ids are UUIDs; a longer one is not kept as a delivery id. */
const MAX_EVENT_ID_CHARS = 200

type EventRead = { push: ImagePush } | { skipped: string } | { invalid: string }

export class RegistrySender implements Sender {
  readonly id = 'registry'

  /** By content type, or by the envelope's shape when a relay re-sent it as plain JSON. */
  recognise(request: SenderRequest): boolean {
    if (mediaType(request) === REGISTRY_EVENTS_MEDIA_TYPE) {
      return true
    }
    const first = arrayAt(jsonObjectBody(request)?.events)?.[0]
    const target = objectAt(pathAt(first, 'target'))
    return typeof pathAt(first, 'action') === 'string' && target !== undefined
  }

  /**
   * The registry signs nothing; `endpoints[].headers` sends a fixed `Authorization`, so
   * `Bearer <secret>` there (or the bare secret) verifies.
   */
  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkAuthorization(header(request, 'authorization'), secret)
  }

  parse(request: SenderRequest): SenderParse {
    const body = readJsonBody(request)
    if (!body.ok) {
      return invalid(`a registry notification must be JSON: ${body.problem}`)
    }
    const events = arrayAt(body.value.events)
    if (events === undefined) {
      return invalid('a registry notification must carry an "events" array')
    }
    if (events.length > MAX_REGISTRY_EVENTS) {
      return invalid(
        `the notification's events list ${events.length} events; at most ${MAX_REGISTRY_EVENTS} are accepted`,
      )
    }
    const pushes: ImagePush[] = []
    const skipped: string[] = []
    for (const [index, event] of events.entries()) {
      const read = readEvent(event, index)
      if ('invalid' in read) {
        return invalid(read.invalid)
      }
      if ('skipped' in read) {
        skipped.push(read.skipped)
      } else if (!pushes.some((push) => samePush(push, read.push))) {
        pushes.push(read.push)
      }
    }
    const last = pushes.at(-1)
    if (last === undefined) {
      return ignored(ignoredReason(skipped))
    }
    if (pushes.length > MAX_PUSHES) {
      return invalid(
        `the notification pushes ${pushes.length} tagged manifests; at most ${MAX_PUSHES} are accepted`,
      )
    }
    return accepted({
      kind: 'push',
      ...last,
      // One push is the common case and reads like every other registry sender's event.
      pushes: pushes.length > 1 ? pushes : undefined,
      // A registry retries an envelope with the same events: its first event id is the delivery's.
      deliveryId: deliveryIdOf(request) ?? deliveryIdOfEvent(events[0]),
    })
  }
}

/** A tagged manifest push, or why the event does not deploy, or the field that is wrong. */
function readEvent(event: unknown, index: number): EventRead {
  const field = `events[${index}]`
  const action = stringAt(pathAt(event, 'action'))
  const target = objectAt(pathAt(event, 'target'))
  if (action === undefined || target === undefined) {
    return { invalid: `a registry notification's ${field} must carry "action" and "target"` }
  }
  const repository = stringAt(target.repository)
  if (repository === undefined) {
    return { invalid: `a registry notification's ${field}.target must name "repository"` }
  }
  const host = stringAt(pathAt(event, 'request', 'host'))
  const registry = host === undefined ? undefined : normaliseRegistryHost(host)
  const image = normaliseRepository(repository)
  // Shown cut: the reason is answered, recorded and logged.
  const where = shown(registry === undefined ? image : `${registry}/${image}`)
  const tag = stringAt(target.tag)
  if (action !== 'push') {
    return {
      skipped: `${quote(action)} of ${tag === undefined ? where : `${where}:${shown(tag)}`}`,
    }
  }
  const type = stringAt(target.mediaType)
  if (type === undefined || !MANIFEST_MEDIA_TYPES.has(type.toLowerCase())) {
    const what =
      type === 'application/octet-stream' ? 'a layer blob' : `media type ${quote(type ?? 'none')}`
    return { skipped: `push of ${what} to ${where}` }
  }
  if (tag === undefined) {
    return { skipped: `push of a manifest to ${where} by digest, without a tag` }
  }
  return { push: registry === undefined ? { image, tag } : { image, tag, registry } }
}

function deliveryIdOfEvent(event: unknown): string | undefined {
  const id = stringAt(pathAt(event, 'id'))
  return id !== undefined && id.length <= MAX_EVENT_ID_CHARS ? id : undefined
}

function samePush(a: ImagePush, b: ImagePush): boolean {
  return a.image === b.image && a.tag === b.tag && a.registry === b.registry
}

const MAX_NAMED_EVENTS = 3

/** `registry event "pull" of …: nothing to deploy`, naming the first few of a batch. */
function ignoredReason(skipped: string[]): string {
  if (skipped.length === 0) {
    return 'the registry notification carries no events; nothing to deploy'
  }
  if (skipped.length === 1) {
    return `registry event ${skipped[0]}: only pushes of tagged manifests deploy`
  }
  const named = skipped.slice(0, MAX_NAMED_EVENTS).join('; ')
  const rest = skipped.length - MAX_NAMED_EVENTS
  const more = rest > 0 ? `; and ${rest} more` : ''
  const count = skipped.length
  return `none of the ${count} registry events is a push of a tagged manifest: ${named}${more}`
}
