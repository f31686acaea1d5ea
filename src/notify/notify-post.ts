// Best-effort outgoing POSTs for every notifier: http(s) only, bounded retries, never throws.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

import type { Logger } from 'pino'

import { REFUSED_ADDRESS } from './outgoing-policy.ts'

/** Logged with every notification that could not be delivered; never an HTTP answer. */
export const NOTIFY_FAILED = 'DH_ERR_NOTIFY_FAILED'

export interface PosterOptions {
  logger: Logger
  /** Waits before each retry; its length bounds the retries. Default 1 s, 5 s, 25 s. */
  retryDelaysMs?: readonly number[]
  /** One attempt's time limit. */
  attemptTimeoutMs?: number
}

export interface PostRequest {
  url: string
  body: string
  headers?: Record<string, string>
  /** What is posted, for the log: `docker hub callback`, `github status`, … */
  what: string
  deploymentId: string
  /**
   * Set for URLs a call chose (outgoing-policy.ts): connect only to the addresses this lookup
   * checked; an IP-literal URL that passed the policy has none and skips DNS.
   */
  pinned?: { lookup: LookupFunction | undefined }
}

export type PostResult = { ok: true; status: number; text: string } | { ok: false; reason: string }

const DEFAULT_RETRY_DELAYS_MS = [1000, 5000, 25_000]
const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000

/** The URL's origin only: paths of Slack hooks and userinfo of any URL are credentials. */
export function originOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : 'an unparsable URL'
}

export class NotifyPoster {
  #logger: Logger
  #retryDelaysMs: readonly number[]
  #attemptTimeoutMs: number
  #stop = new AbortController()
  #inFlight = new Set<Promise<unknown>>()
  #chains = new Map<string, Promise<unknown>>()

  constructor(options: PosterOptions) {
    this.#logger = options.logger
    this.#retryDelaysMs = Object.freeze([...(options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS)])
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS
  }

  /**
   * Runs `work` after the previous work queued under `key`, so a deployment's "finished" is
   * never posted before its "started". Returns at once: listeners must not hold the worker.
   */
  enqueue(key: string, work: () => Promise<unknown>): void {
    const previous = this.#chains.get(key) ?? Promise.resolve()
    const next = previous.then(work).catch((error: unknown) => {
      this.#logger.error({ err: error, code: NOTIFY_FAILED }, 'notifier failed')
    })
    this.#chains.set(key, next)
    this.#inFlight.add(next)
    void next.finally(() => {
      this.#inFlight.delete(next)
      if (this.#chains.get(key) === next) {
        this.#chains.delete(key)
      }
    })
  }

  /** POSTs with retries on network errors, 408, 429 and 5xx; logs the final failure. */
  async post(request: PostRequest): Promise<PostResult> {
    const target = originOf(request.url)
    const prepared = prepare(request)
    if ('reason' in prepared) {
      return this.#fail(request, target, prepared.reason, 0)
    }
    let reason = 'not attempted'
    for (let attempt = 0; attempt <= this.#retryDelaysMs.length; attempt++) {
      if (attempt > 0) {
        try {
          await delay(this.#retryDelaysMs[attempt - 1], undefined, { signal: this.#stop.signal })
        } catch {
          return this.#fail(
            request,
            target,
            `${reason}; Deckhand stopped before the next retry`,
            attempt,
          )
        }
      }
      try {
        const signal = AbortSignal.any([
          this.#stop.signal,
          AbortSignal.timeout(this.#attemptTimeoutMs),
        ])
        const response = request.pinned
          ? await postPinned(
              prepared.url,
              prepared.headers,
              request.body,
              signal,
              request.pinned.lookup,
            )
          : await fetch(prepared.url, {
              method: 'POST',
              headers: prepared.headers,
              body: request.body,
              redirect: 'manual',
              signal,
            })
        const text = await response.text()
        if (response.status >= 200 && response.status < 300) {
          return { ok: true, status: response.status, text }
        }
        reason = `answered HTTP ${response.status}`
        if (!isRetryable(response.status)) {
          return this.#fail(request, target, reason, attempt + 1)
        }
      } catch (error) {
        // fetch's errors name the host and the system error, never the body or headers.
        const cause =
          (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code
        if (cause === REFUSED_ADDRESS) {
          // The name resolved to a refused address: asking again would only ask DNS again.
          return this.#fail(request, target, (error as Error).message, attempt + 1)
        }
        reason = cause ?? (error instanceof Error ? error.name : 'network error')
      }
    }
    return this.#fail(request, target, reason, this.#retryDelaysMs.length + 1)
  }

  /** Logs a request the outgoing policy refused, as a failure that was never attempted. */
  refuse(request: Pick<PostRequest, 'url' | 'what' | 'deploymentId'>, reason: string): PostResult {
    return this.#fail({ ...request, body: '' }, originOf(request.url), reason, 0)
  }

  /** Waits up to `graceMs` for notifications under way, then abandons the rest. */
  async close(graceMs: number): Promise<void> {
    const timer = setTimeout(() => this.#stop.abort(), graceMs)
    while (this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#inFlight])
    }
    clearTimeout(timer)
    this.#stop.abort()
  }

  #fail(request: PostRequest, target: string, reason: string, attempts: number): PostResult {
    this.#logger.warn(
      {
        code: NOTIFY_FAILED,
        what: request.what,
        target,
        deployment: request.deploymentId,
        attempts,
        reason,
      },
      `${request.what} to ${target} failed: ${reason}`,
    )
    return { ok: false, reason }
  }
}

/** At most this much of an answer is read; only its status matters. */
const MAX_ANSWER_BYTES = 64 * 1024

/**
 * A POST over node:http(s) with `lookup`, which fetch cannot take: the connection goes to the
 * address the policy checked. Redirects are answers like any other, never followed.
 */
function postPinned(
  url: URL,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  lookup: LookupFunction | undefined,
): Promise<{ status: number; text(): Promise<string> }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const outgoing = send(
      url,
      { method: 'POST', headers, signal, ...(lookup ? { lookup } : {}), agent: false },
      (answer) => {
        const chunks: Buffer[] = []
        let size = 0
        answer.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) {
            chunks.push(chunk)
          }
          size += chunk.length
        })
        answer.on('error', reject)
        answer.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES)
          resolve({ status: answer.statusCode ?? 0, text: async () => text })
        })
      },
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

/**
 * Only http(s): a callback URL comes from a payload. fetch refuses URLs with userinfo, so
 * `user:pass@` becomes a Basic Authorization header instead.
 */
function prepare(
  request: PostRequest,
): { url: URL; headers: Record<string, string> } | { reason: string } {
  if (!URL.canParse(request.url)) {
    return { reason: 'the URL does not parse' }
  }
  const url = new URL(request.url)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { reason: `only http and https URLs are posted to, not ${url.protocol}` }
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'deckhand',
    ...request.headers,
  }
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
    headers.authorization ??= `Basic ${Buffer.from(credentials).toString('base64')}`
    url.username = ''
    url.password = ''
  }
  return { url, headers }
}
