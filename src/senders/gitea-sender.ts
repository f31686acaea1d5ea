// Gitea and Forgejo webhooks: push, signed with a bare hex HMAC-SHA256.
import { readPushPayload } from './github-sender.ts'
import type { Sender, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import { deliveryIdOf, header, ignored, invalid, quote, readJsonBody } from './sender-payload.ts'
import { checkHmacHeader } from './signature.ts'

/**
 * Forgejo sends its own `X-Forgejo-*` headers and Gitea's (and GitHub's `X-GitHub-Event`) for
 * compatibility; Gitea sends only its own. Forgejo's names are read first so a Forgejo
 * delivery is described as one.
 */
function eventOf(request: SenderRequest): { event: string; who: string } | undefined {
  const forgejo = header(request, 'x-forgejo-event')
  if (forgejo !== undefined) {
    return { event: forgejo.toLowerCase(), who: 'Forgejo' }
  }
  const gitea = header(request, 'x-gitea-event')
  return gitea === undefined ? undefined : { event: gitea.toLowerCase(), who: 'Gitea' }
}

export class GiteaSender implements Sender {
  readonly id = 'gitea'

  recognise(request: SenderRequest): boolean {
    return eventOf(request) !== undefined
  }

  verify(request: SenderRequest, secret: string): SignatureCheck {
    const signature = header(request, 'x-forgejo-signature') ?? header(request, 'x-gitea-signature')
    return checkHmacHeader(signature, {
      algorithm: 'sha256',
      prefix: '',
      secret,
      body: request.body,
    })
  }

  parse(request: SenderRequest): SenderParse {
    const named = eventOf(request)
    if (named === undefined) {
      return invalid(
        'a Gitea or Forgejo delivery must name its event in X-Gitea-Event or X-Forgejo-Event',
      )
    }
    const { event, who } = named
    const body = readJsonBody(request, { formPayload: true })
    if (!body.ok) {
      return invalid(
        `a ${who} ${event.length > 40 ? 'event' : event} must be JSON: ${body.problem}`,
      )
    }
    if (event !== 'push') {
      return ignored(`${who} event ${quote(event)} is not one Deckhand acts on (push)`)
    }
    const deliveryId = deliveryIdOf(request, 'x-forgejo-delivery', 'x-gitea-delivery')
    return readPushPayload(body.value, `${who} push`, deliveryId)
  }
}
