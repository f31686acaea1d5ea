/**
 * One bounded HTTP(S) exchange with a registry: a deadline, a body cap, a CA to trust, a
 * client certificate to show.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'

export interface RegistryRequest {
  method: 'GET' | 'HEAD'
  url: URL
  headers: Record<string, string>
  /** PEM certificates trusted for https, besides the system's roots. */
  ca: string[] | undefined
  /** A client certificate and its key (PEM) for registries that ask for one over TLS. */
  clientCertificate?: { cert: string; key: string } | undefined
  /**
   * Where the connection goes instead of the URL's host (tests: a stand-in on loopback for a
   * registry of the outside world). The URL's host is still the Host header and TLS name.
   */
  connectTo?: { host: string; port: number } | undefined
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

  /** True when the registry ended the TLS handshake over the client certificate (or its lack). */
  get isClientCertificateRefused(): boolean {
    const code = String((this.cause as { code?: unknown } | undefined)?.code ?? '')
    return /ALERT_(?:CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN)/.test(
      code,
    )
  }
}

/** Sends one request; resolves with any status, rejects with RegistryUnreachable. */
export function registryRequest(options: RegistryRequest): Promise<RegistryAnswer> {
  const { url, method, headers, maxBytes, timeoutMs } = options
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]
  const signal = AbortSignal.any(signals)
  const tls = url.protocol === 'https:'
  const send = tls ? httpsRequest : httpRequest
  const { clientCertificate, connectTo } = options
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown): void =>
      reject(new RegistryUnreachable(`${method} ${url.origin}${url.pathname}: ${why}`, { cause }))
    const req = send(
      url,
      {
        method,
        headers: {
          'user-agent': 'deckhand',
          ...(connectTo ? { host: url.host } : {}),
          ...headers,
        },
        signal,
        ...(tls && options.ca ? { ca: options.ca } : {}),
        ...(tls && clientCertificate ? clientCertificate : {}),
        ...(connectTo
          ? {
              // `hostname` (which the URL sets) wins over `host`: both go to the stand-in.
              hostname: connectTo.host,
              host: connectTo.host,
              port: connectTo.port,
              ...(isIP(url.hostname) ? {} : { servername: url.hostname }),
            }
          : {}),
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
