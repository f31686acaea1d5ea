/** The CLI's only way to the server: JSON over the admin API, failures turned into one-liners. */
import { type CliContext, contextFilePath, findContext, readContextFile } from './contexts.ts'
import { CliError, EXIT } from './exit-codes.ts'

export const DEFAULT_URL = 'http://127.0.0.1:8080'

export interface ConnectionOptions {
  url?: string | undefined
  token?: string | undefined
  /** A context of the config file, named with --context. */
  context?: string | undefined
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

/**
 * Where the server is and how to authenticate: flags first; then the context named with
 * --context; then DECKHAND_URL/DECKHAND_TOKEN; then the current context of the config file.
 * A context's token goes only to that context's URL, never to a URL given some other way.
 */
export function resolveConnection(
  flags: ConnectionOptions,
  env: Record<string, string | undefined>,
): { url: string; token: string | undefined } {
  const named = flags.context !== undefined
  let context: CliContext | undefined
  if (named || (flags.url ?? env.DECKHAND_URL) === undefined) {
    const path = contextFilePath(env)
    const file = readContextFile(path)
    const name = flags.context ?? file.currentContext
    context = name === undefined ? undefined : findContext(file, name, path)
  }
  const url = trimSlashes(
    flags.url ?? (named ? context!.url : (env.DECKHAND_URL ?? context?.url)) ?? DEFAULT_URL,
  )
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error('not http')
    }
  } catch {
    throw new CliError(
      `"${url}" is not an http(s) URL; set --url or DECKHAND_URL to e.g. ${DEFAULT_URL}`,
      EXIT.usage,
    )
  }
  const contextToken = context && trimSlashes(context.url) === url ? context.token : undefined
  const token =
    flags.token ??
    (named ? (contextToken ?? env.DECKHAND_TOKEN) : (env.DECKHAND_TOKEN ?? contextToken))
  return { url, token: token === '' ? undefined : token }
}

const trimSlashes = (url: string): string => url.replace(/\/+$/, '')

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
      throw new CliError(
        `${this.url} answered ${path} with something that is not JSON; is --url a Deckhand server?`,
      )
    }
  }

  /** The raw response of a 2xx, for streams and text; errors as in request(). */
  async fetch(path: string, options: ApiRequest = {}): Promise<Response> {
    if (!options.anonymous && this.#token === undefined) {
      throw new CliError(
        'no admin token: set DECKHAND_TOKEN, pass --token, or save one with `deckhand context set` ' +
          '(the server prints the first one on its first start, or takes DECKHAND_ADMIN_TOKEN)',
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
      throw new CliError(
        `cannot reach the Deckhand server at ${this.url} (${networkReason(error)}); ` +
          'is `deckhand serve` running? Set --url or DECKHAND_URL to where it listens',
      )
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
      // `deckhand token create` needs a working token itself, so name where the first one comes from.
      return (
        `the server at ${url} refused the admin token (401); check DECKHAND_TOKEN, --token or the context ` +
        '(`deckhand context ls`). The first token is the one the server printed on its first start, or the ' +
        'DECKHAND_ADMIN_TOKEN it was started with; with a working token, `deckhand token create` makes more'
      )
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
