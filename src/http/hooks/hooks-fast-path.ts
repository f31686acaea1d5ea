/**
 * `POST /hooks/<token>` answered straight from node:http, before Fastify's request pipeline.
 * On the 2-core machine the serving thread is the bottleneck, and Fastify's routing, hooks,
 * request and reply objects cost about a quarter of a call: this path measured +28 % calls/s
 * (bench/README.md). It takes only the plain case: a well-formed token, a body of declared
 * length within the limit, the server not closing. The caller's address is found as Fastify's
 * trustProxy finds it (the same @fastify/proxy-addr, given DECKHAND_TRUSTED_PROXIES).
 * Everything else (chunked or oversized bodies, odd paths, other methods) goes on to Fastify's
 * route, and both answer through answerHookCall and errorAnswer, so they answer alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

import proxyAddr from '@fastify/proxy-addr'
import type { Logger } from 'pino'

import type { CallAnswer } from '../../calls/accept-call.ts'
import { TOKEN_PATTERN } from '../../triggers/token.ts'
import { accessLevel } from '../access-level.ts'
import { errorAnswer } from '../error-reply.ts'
import { redactUrl } from '../redact-url.ts'
import { answerHookCall, type HookCallDeps, shed } from './hook-call.ts'

/** `/hooks/<token>` with an optional query; the token as TOKEN_PATTERN has it. */
const PLAIN_HOOK_URL = new RegExp(`^/hooks/(${TOKEN_PATTERN.source.slice(1, -1)})(?:\\?(.*))?$`)

export interface FastPathOptions extends HookCallDeps {
  logger: Logger
  maxBodyBytes: number
  trustedProxies: string[]
  /** True once the server is closing: Fastify then answers 503 and closes the connection. */
  closing: () => boolean
}

/** Answers the request and says true, or says false and leaves it to Fastify. */
export type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean

export function hooksFastPath(options: FastPathOptions): FastPath {
  const trusted =
    options.trustedProxies.length > 0 ? proxyAddr.compile(options.trustedProxies) : undefined
  const addressOf = (request: IncomingMessage): string =>
    trusted ? proxyAddr(request, trusted) : (request.socket.remoteAddress ?? '')
  return (request, response) => {
    if (request.method !== 'POST' || options.closing()) {
      return false
    }
    const url = request.url ?? ''
    const match = PLAIN_HOOK_URL.exec(url)
    const length = Number(request.headers['content-length'])
    if (
      !match ||
      request.headers['transfer-encoding'] !== undefined ||
      !Number.isInteger(length) ||
      length < 0 ||
      length > options.maxBodyBytes
    ) {
      return false
    }
    const started = performance.now()
    if (options.intake.atBound()) {
      // Shed before the body is read: under overload a 503 is most of the work, and its body
      // would be thrown away (node:http drains it before the connection's next request).
      options.events.emit('call:shed', {})
      write(response, shed(options.intake.limit))
      return true
    }
    // The body is copied into one buffer of the declared length as it arrives. Collecting the
    // chunks and concatenating them at the end copied each body whole in one task, after all of
    // it was held twice: Buffer.concat was the largest self time of the server's CPU profile
    // while 20 parallel 1 MiB calls arrived (200 ms of 1.5 s, above the senders' JSON.parse).
    let body: Buffer | undefined
    let received = 0
    request.on('data', (chunk: Buffer) => {
      if (body === undefined && chunk.length >= length) {
        body = chunk
        received = chunk.length
        return
      }
      body ??= Buffer.allocUnsafe(length)
      received += chunk.copy(body, received)
    })
    // A caller that goes away mid-body leaves nothing to answer.
    request.on('error', () => {})
    request.on('end', () => {
      // Bytes after the declared body that do not parse end the connection (400) in the same
      // read that completed the body: such a call could never be answered, so it is not made.
      if (request.socket.destroyed) {
        return
      }
      const call = {
        token: match[1]!,
        address: addressOf(request),
        headers: request.headers as Record<string, string | undefined>,
        body: body === undefined ? Buffer.alloc(0) : body.subarray(0, received),
        query: lastValues(match[2]),
      }
      void answerHookCall(call, request.socket, options)
        .catch((error: unknown): CallAnswer => errorAnswer(error as Error, options.logger))
        .then((answer) => {
          write(response, answer)
          const retryAfter = answer.headers?.['retry-after'] !== undefined
          const level = accessLevel('POST', url, answer.status, retryAfter)
          if (options.logger.isLevelEnabled(level)) {
            options.logger[level](
              {
                method: 'POST',
                url: redactUrl(url),
                status: answer.status,
                ms: Math.round(performance.now() - started),
              },
              'request',
            )
          }
        })
    })
    return true
  }
}

function write(response: ServerResponse, answer: CallAnswer): void {
  if (answer.body === undefined) {
    response.writeHead(answer.status, answer.headers)
    response.end()
    return
  }
  const json = JSON.stringify(answer.body)
  response.writeHead(answer.status, {
    ...answer.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  })
  response.end(json)
}

/** Query values as the Fastify route sees them after flatQuery: a repeated key keeps its last. */
function lastValues(search: string | undefined): Record<string, string | undefined> {
  const query: Record<string, string | undefined> = {}
  if (search) {
    for (const [key, value] of new URLSearchParams(search)) {
      query[key] = value
    }
  }
  return query
}
