// Azure Container Registry webhooks: push events name the repository and tag.
import type { Sender, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import {
  accepted,
  deliveryIdOf,
  header,
  ignored,
  invalid,
  jsonObjectBody,
  normaliseRepository,
  objectAt,
  pathAt,
  quote,
  readJsonBody,
  shown,
  stringAt,
} from './sender-payload.ts'
import { checkAuthorization } from './signature.ts'

export class AcrSender implements Sender {
  readonly id = 'acr'

  recognise(request: SenderRequest): boolean {
    const body = jsonObjectBody(request)
    return (
      typeof body?.action === 'string' &&
      objectAt(body.target) !== undefined &&
      objectAt(body.request) !== undefined
    )
  }

  /** ACR webhooks take custom headers (`--headers "Authorization=Bearer <secret>"`). */
  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkAuthorization(header(request, 'authorization'), secret)
  }

  parse(request: SenderRequest): SenderParse {
    const body = readJsonBody(request)
    if (!body.ok) {
      return invalid(`an Azure Container Registry event must be JSON: ${body.problem}`)
    }
    const action = stringAt(body.value.action)
    if (action === undefined || objectAt(body.value.target) === undefined) {
      return invalid('an Azure Container Registry event must carry "action" and "target"')
    }
    if (action !== 'push') {
      return ignored(
        `Azure Container Registry event ${quote(action)} is not one Deckhand acts on (push)`,
      )
    }
    const repository = stringAt(pathAt(body.value, 'target', 'repository'))
    if (repository === undefined) {
      return invalid('an Azure Container Registry push must name "target.repository"')
    }
    const image = normaliseRepository(repository)
    const tag = stringAt(pathAt(body.value, 'target', 'tag'))
    if (tag === undefined) {
      return ignored(
        `Azure Container Registry push to ${shown(image)} has no tag (pushed by digest); nothing to deploy`,
      )
    }
    // The event id is the same when ACR resends an event, so it deduplicates retries.
    const eventId = stringAt(body.value.id)
    return accepted({
      kind: 'push',
      image,
      tag,
      deliveryId:
        deliveryIdOf(request) ??
        (eventId !== undefined && eventId.length <= 200 ? eventId : undefined),
    })
  }
}
