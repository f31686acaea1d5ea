// Any other caller (curl, CI jobs, HTML forms): `?tag=`, the body passed through as it is.
import type { Sender, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import {
  accepted,
  bodyText,
  deliveryIdOf,
  header,
  jsonObjectBody,
  mediaType,
  queryParam,
  stringAt,
} from './sender-payload.ts'
import { checkHmacHeader } from './signature.ts'

/**
 * The tag a generic call names: `?tag=` first, else a `tag` field of a form body (an HTML
 * form with a tag input) or of a JSON object body (`curl -d '{"tag":"1.5.0"}'`). Whether the
 * tag is taken at all is the trigger's `allowTag` and the service's tag policy to decide.
 */
function tagOf(request: SenderRequest): string | undefined {
  const fromQuery = queryParam(request, 'tag')
  if (fromQuery !== undefined) {
    return fromQuery
  }
  if (mediaType(request) === 'application/x-www-form-urlencoded') {
    const text = bodyText(request)
    return text === undefined
      ? undefined
      : (new URLSearchParams(text).get('tag') ?? undefined) || undefined
  }
  return stringAt(jsonObjectBody(request)?.tag)
}

export class GenericSender implements Sender {
  readonly id = 'generic'

  recognise(_request: SenderRequest): boolean {
    return true
  }

  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkHmacHeader(header(request, 'x-deckhand-signature'), {
      algorithm: 'sha256',
      prefix: 'sha256=',
      secret,
      body: request.body,
    })
  }

  /** Never invalid: any body, of any type or none, is a generic call. */
  parse(request: SenderRequest): SenderParse {
    return accepted({ kind: 'plain', tag: tagOf(request), deliveryId: deliveryIdOf(request) })
  }
}
