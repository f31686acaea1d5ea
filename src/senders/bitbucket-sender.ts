// Bitbucket Cloud webhooks: repo:push, the last change's branch or tag and commit.
import type { Sender, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import {
  accepted,
  arrayAt,
  deliveryIdOf,
  header,
  ignored,
  invalid,
  normaliseRepository,
  objectAt,
  pathAt,
  quote,
  readJsonBody,
  stringAt,
} from './sender-payload.ts'
import { checkHmacHeader } from './signature.ts'

export class BitbucketSender implements Sender {
  readonly id = 'bitbucket'

  recognise(request: SenderRequest): boolean {
    return header(request, 'x-event-key') !== undefined
  }

  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkHmacHeader(header(request, 'x-hub-signature'), {
      algorithm: 'sha256',
      prefix: 'sha256=',
      secret,
      body: request.body,
    })
  }

  parse(request: SenderRequest): SenderParse {
    const event = header(request, 'x-event-key')
    if (event === undefined) {
      return invalid('a Bitbucket delivery must name its event in X-Event-Key')
    }
    const body = readJsonBody(request)
    if (!body.ok) {
      return invalid(
        `a Bitbucket ${event.length > 40 ? 'event' : event} must be JSON: ${body.problem}`,
      )
    }
    if (event !== 'repo:push') {
      return ignored(`Bitbucket event ${quote(event)} is not one Deckhand acts on (repo:push)`)
    }
    const changes = arrayAt(pathAt(body.value, 'push', 'changes'))
    if (changes === undefined) {
      return invalid('a Bitbucket repo:push must carry "push.changes"')
    }
    // One push can move several refs; Bitbucket lists them in order, the last one is newest.
    const change = changes.at(-1)
    if (change === undefined) {
      return ignored('Bitbucket push changed no ref; nothing to deploy')
    }
    const next = objectAt(pathAt(change, 'new'))
    if (next === undefined) {
      const old = stringAt(pathAt(change, 'old', 'name'))
      return ignored(
        `Bitbucket push deleted ${old === undefined ? 'a ref' : quote(old)}; nothing to deploy`,
      )
    }
    const type = stringAt(next.type)
    const name = stringAt(next.name)
    if (name === undefined || (type !== 'branch' && type !== 'tag' && type !== 'annotated_tag')) {
      return ignored('Bitbucket push moved a ref that is neither a branch nor a tag')
    }
    const fullName = stringAt(pathAt(body.value, 'repository', 'full_name'))
    return accepted({
      kind: 'push',
      repository: fullName === undefined ? undefined : normaliseRepository(fullName),
      branch: type === 'branch' ? name : undefined,
      tag: type === 'branch' ? undefined : name,
      commit: stringAt(pathAt(next, 'target', 'hash')),
      deliveryId: deliveryIdOf(request, 'x-request-uuid'),
    })
  }
}
