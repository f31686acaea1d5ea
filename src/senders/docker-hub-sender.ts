// Docker Hub repository webhooks: an image tag was pushed; the outcome goes to callback_url.
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
  readJsonBody,
  shown,
  stringAt,
} from './sender-payload.ts'
import { checkAuthorization } from './signature.ts'

/**
 * Any URL is passed on, whatever its scheme: the outgoing-request policy refuses what may not be
 * called (file:, gopher:, loopback…) and the deployment log says why, instead of a silent drop.
 */
function callbackUrlOf(value: unknown): string | undefined {
  const text = stringAt(value)
  return text !== undefined && URL.canParse(text) ? text : undefined
}

export class DockerHubSender implements Sender {
  readonly id = 'dockerhub'

  recognise(request: SenderRequest): boolean {
    const body = jsonObjectBody(request)
    return objectAt(body?.push_data) !== undefined && objectAt(body?.repository) !== undefined
  }

  /**
   * Docker Hub signs nothing and sends no headers of its own: the trigger URL is the secret.
   * A trigger that also has a secret needs it as `Authorization` (see `checkAuthorization`),
   * which Docker Hub cannot send, so such a trigger suits only a relay in front of Docker Hub.
   */
  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkAuthorization(header(request, 'authorization'), secret)
  }

  parse(request: SenderRequest): SenderParse {
    const body = readJsonBody(request)
    if (!body.ok) {
      return invalid(`a Docker Hub push must be JSON: ${body.problem}`)
    }
    const repoName = stringAt(pathAt(body.value, 'repository', 'repo_name'))
    if (repoName === undefined || objectAt(body.value.push_data) === undefined) {
      return invalid('a Docker Hub push must carry "push_data" and "repository.repo_name"')
    }
    const image = normaliseRepository(repoName)
    const tag = stringAt(pathAt(body.value, 'push_data', 'tag'))
    if (tag === undefined) {
      return ignored(`Docker Hub push to ${shown(image)} names no tag; nothing to deploy`)
    }
    return accepted({
      kind: 'push',
      image,
      tag,
      callbackUrl: callbackUrlOf(body.value.callback_url),
      deliveryId: deliveryIdOf(request),
    })
  }
}
