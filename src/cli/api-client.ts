/** The CLI's only way to the server: JSON over the admin API, failures turned into one-liners. */
import { CliError, EXIT } from './exit-codes.ts'

export const DEFAULT_URL = 'http://127.0.0.1:8080'

export interface ConnectionOptions {
  url?: string | undefined
  token?: string | undefined
}

export interface ApiRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  query?: Record<string, string | number | undefined>
  body?: unknown
  /** Sent without the admin token (openapi.json, healthz). */
  anonymous?: boolean
  /** For streams: the caller reads the body itself. */
  accept?: string
  signal?: AbortSignal
}

/** Where the server is and how to authenticate: flags first, then DECKHAND_URL/DECKHAND_TOKEN. */
export function resolveConnection(
  flags: ConnectionOptions,
  env: Record<string, string | undefined>,
): { url: string; token: string | undefined } {
  const url = (flags.url ?? env.DECKHAND_URL ?? DEFAULT_URL).replace(/\/+$/, '')
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error('not http')
    }
  } catch {
    throw new CliError(`"${url}" is not an http(s) URL; set --url or DECKHAND_URL to e.g. ${DEFAULT_URL}`, EXIT.usage)
  }
  const token = flags.token ?? env.DECKHAND_TOKEN
  return { url, token: token === '' ? undefined : token }
}

export class ApiClient {
  readonly url: string
  #token: string | undefined

  constructor(connection: { url: string; token: string | undefined }) {
    this.url = connection.url
    this.#token = connection.token
  }

  /** The parsed JSON answer of a 2xx; any other answer throws a CliError a person can act on. */
  async request<T = unknown>(path: string, options: ApiRequest = {}): Promise<T> {
    const response = await this.fetch(path, options)
    if (response.status === 204) {
      return undefined as T
    }
    const text = await response.text()
    if (text === '') {
      return undefined as T
    }
    try {
      return JSON.parse(text) as T
    } catch {
      throw new CliError(`${this.url} answered ${path} with something that is not JSON; is --url a Deckhand server?`)
    }
  }

  /** The raw response of a 2xx, for streams and text; errors as in request(). */
  async fetch(path: string, options: ApiRequest = {}): Promise<Response> {
    if (!options.anonymous && this.#token === undefined) {
      throw new CliError(
        'no admin token: set DECKHAND_TOKEN or pass --token (the server prints one on first start)',
        EXIT.usage,
      )
    }
    const target = new URL(this.url + path)
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) {
        target.searchParams.set(key, String(value))
      }
    }
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' }
    if (!options.anonymous) {
      headers.authorization = `Bearer ${this.#token}`
    }
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json'
    }
    let response: Response
    try {
      response = await fetch(target, {
        method: options.method ?? 'GET',
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })
    } catch (error) {
      throw new CliError(`cannot reach the Deckhand server at ${this.url} (${networkReason(error)}); ` +
        'is `deckhand serve` running? Set --url or DECKHAND_URL to where it listens')
    }
    if (response.ok) {
      return response
    }
    throw new CliError(await describeFailure(response, this.url))
  }
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))
}

/** One line from an error answer; the server's message already says what to do next. */
async function describeFailure(response: Response, url: string): Promise<string> {
  let message: string | undefined
  try {
    const body = (await response.json()) as { error?: unknown; message?: unknown }
    const text = body.error ?? body.message
    message = typeof text === 'string' ? text : undefined
  } catch {
    message = undefined
  }
  switch (response.status) {
    case 401:
      return `the server at ${url} refused the admin token (401); check DECKHAND_TOKEN or --token, ` +
        'or create a token with `deckhand token create`'
    case 403:
      return `the server at ${url} refused this admin token (403)${message ? `: ${message}` : ''}`
    case 404:
      return message && message !== 'not found'
        ? message
        : `not found (404) at ${url}; is --url a Deckhand server, and the name or id right?`
    default:
      if (response.status >= 500) {
        return `the server failed (${response.status})${message ? `: ${message}` : ''}; see its log, then retry`
      }
      return message ?? `the server answered ${response.status} ${response.statusText}`
  }
}
