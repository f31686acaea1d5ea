/** One bounded HTTP(S) exchange with a registry: a deadline, a body cap, a CA to trust. */
import type { IncomingHttpHeaders } from 'node:http'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface RegistryRequest {
  method: 'GET' | 'HEAD'
  url: URL
  headers: Record<string, string>
  /** PEM certificates trusted for https, besides the system's roots. */
  ca: string[] | undefined
  /** Answers longer than this are cut off and refused. */
  maxBytes: number
  timeoutMs: number
  signal?: AbortSignal | undefined
}

export interface RegistryAnswer {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** Thrown when the registry cannot be reached or answers more than the cap; no status. */
export class RegistryUnreachable extends Error {
  override name = 'RegistryUnreachable'

  /** True when TLS was spoken and the registry's certificate was not trusted. */
  get isCertificateError(): boolean {
    const code = String((this.cause as { code?: unknown } | undefined)?.code ?? '')
    return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)
  }
}

/** Sends one request; resolves with any status, rejects with RegistryUnreachable. */
export function registryRequest(options: RegistryRequest): Promise<RegistryAnswer> {
  const { url, method, headers, maxBytes, timeoutMs } = options
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]
  const signal = AbortSignal.any(signals)
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown): void =>
      reject(new RegistryUnreachable(`${method} ${url.origin}${url.pathname}: ${why}`, { cause }))
    const req = send(
      url,
      {
        method,
        headers: { 'user-agent': 'deckhand', ...headers },
        signal,
        ...(url.protocol === 'https:' && options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        const declared = Number(res.headers['content-length'] ?? 0)
        if (declared > maxBytes) {
          res.destroy()
          fail(`the answer is ${declared} bytes, more than the ${maxBytes} Deckhand reads`)
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) {
            res.destroy()
            fail(`the answer is more than the ${maxBytes} bytes Deckhand reads`)
            return
          }
          chunks.push(chunk)
        })
        res.on('error', (error) => fail(error.message, error))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        )
      },
    )
    req.on('error', (error) => {
      const timedOut = signals[0]?.aborted === true
      fail(timedOut ? `no answer within ${timeoutMs} ms` : error.message, error)
    })
    req.end()
  })
}
