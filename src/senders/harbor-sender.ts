// Harbor webhooks: PUSH_ARTIFACT names the project/repository and the pushed tag.
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
  objectAt,
  pathAt,
  quote,
  readJsonBody,
  shown,
  stringAt,
} from './sender-payload.ts'
import { checkAuthorization } from './signature.ts'

export class HarborSender implements Sender {
  readonly id = 'harbor'

  recognise(request: SenderRequest): boolean {
    const body = jsonObjectBody(request)
    return typeof body?.type === 'string' && objectAt(body.event_data) !== undefined
  }

  /**
   * Harbor has no signature; a webhook policy's "Auth Header" is sent verbatim as
   * `Authorization`, so either `Bearer <secret>` or the bare secret there verifies.
   */
  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkAuthorization(header(request, 'authorization'), secret)
  }

  parse(request: SenderRequest): SenderParse {
    const body = readJsonBody(request)
    if (!body.ok) {
      return invalid(`a Harbor event must be JSON: ${body.problem}`)
    }
    const type = stringAt(body.value.type)
    if (type === undefined || objectAt(body.value.event_data) === undefined) {
      return invalid('a Harbor event must carry "type" and "event_data"')
    }
    if (type !== 'PUSH_ARTIFACT') {
      return ignored(`Harbor event ${quote(type)} is not one Deckhand acts on (PUSH_ARTIFACT)`)
    }
    const fullName = stringAt(pathAt(body.value, 'event_data', 'repository', 'repo_full_name'))
    if (fullName === undefined) {
      return invalid('a Harbor PUSH_ARTIFACT must name "event_data.repository.repo_full_name"')
    }
    const image = normaliseRepository(fullName)
    const resources = arrayAt(pathAt(body.value, 'event_data', 'resources')) ?? []
    const tag = resources.map((resource) => stringAt(pathAt(resource, 'tag'))).find(Boolean)
    if (tag === undefined) {
      return ignored(
        `Harbor push to ${shown(image)} has no tag (pushed by digest); nothing to deploy`,
      )
    }
    return accepted({ kind: 'push', image, tag, deliveryId: deliveryIdOf(request) })
  }
}
