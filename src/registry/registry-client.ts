/**
 * A client for the Registry HTTP API v2 (the distribution spec): a tag's manifest digest and a
 * repository's tags, with token or basic auth, bounded answers and a deadline per request.
 */
import { createHash } from 'node:crypto'
import { rootCertificates } from 'node:tls'

import type { CertsDir } from './certs-d.ts'
import { readCertsDir } from './certs-d.ts'
import { isDigest } from './image-name.ts'
import type { CredentialsFor } from './registry-auth.ts'
import { basicAuthorization, parseChallenge, readToken } from './registry-auth.ts'
import type { RegistryAnswer } from './registry-http.ts'
import { registryRequest, RegistryUnreachable } from './registry-http.ts'

/** Every manifest kind a tag may name; a list or index digest is what `docker pull` records. */
export const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
] as const

const DEFAULT_TIMEOUT_MS = 10_000
// Manifests are a few KiB; a tags page of 1,000 long tags stays far below this.
const DEFAULT_MAX_BYTES = 1024 * 1024
const MAX_TAG_PAGES = 100
const MAX_CACHED_TOKENS = 256

export interface RegistryClientOptions {
  /** Credentials for a registry host; none means anonymous calls only. */
  credentialsFor?: CredentialsFor
  /** PEM certificates trusted besides the system's roots (a self-hosted registry's CA). */
  ca?: string[]
  /**
   * Docker's certs.d directory (DECKHAND_REGISTRY_CERTS_D): `<dir>/<host:port>/*.crt` are
   * trusted for that registry besides `ca` and the system's roots, and a `*.cert` with its
   * `*.key` there is the client certificate shown to it. None when absent.
   */
  certsDir?: string
  /**
   * Tests only: where connections to a host (`registry-1.docker.io`, `auth.docker.io`) go
   * instead, so that a stand-in on loopback answers for a registry of the outside world. An
   * address outside 127.0.0.0/8 is refused; a host it throws for is not asked.
   */
  connectTo?: (host: string) => { host: string; port: number }
  /** The deadline of each request. Default 10000. */
  timeoutMs?: number
  /** The largest answer read. Default 1 MiB. */
  maxBytes?: number
}

/** A registry's refusal (or our inability to ask it), with its answer in the message. */
export class RegistryError extends Error {
  override name = 'RegistryError'
  /** The registry's HTTP status, or null when it could not be reached. */
  readonly status: number | null
  /** What the registry's `Retry-After` asked for (a 429 or 503), in milliseconds. */
  readonly retryAfterMs: number | null

  constructor(
    message: string,
    status: number | null,
    options?: ErrorOptions & { retryAfterMs?: number | null },
  ) {
    super(message, options)
    this.status = status
    this.retryAfterMs = options?.retryAfterMs ?? null
  }
}

/**
 * An answer asked for with `If-None-Match`: `notModified` when the registry says its ETag is
 * still the one sent, else the answer with the ETag to send next time (null when none).
 */
export type Conditional<T> =
  { notModified: true } | ({ notModified: false; etag: string | null } & T)

export interface ManifestDigest {
  digest: string
  mediaType: string | null
}

export class RegistryClient {
  readonly #credentialsFor: CredentialsFor
  readonly #ca: string[] | undefined
  readonly #certsDir: string | undefined
  readonly #connectTo: RegistryClientOptions['connectTo']
  readonly #timeoutMs: number
  readonly #maxBytes: number
  readonly #origins = new Map<string, string>()
  readonly #tokens = new Map<string, { authorization: string; expiresAt: number }>()

  constructor(options: RegistryClientOptions = {}) {
    this.#credentialsFor = options.credentialsFor ?? (() => null)
    this.#ca =
      options.ca && options.ca.length > 0 ? [...rootCertificates, ...options.ca] : undefined
    this.#certsDir = options.certsDir
    this.#connectTo = options.connectTo
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
  }

  /** The digest `host/repository:tag` names now; RegistryError when the registry refuses. */
  async manifestDigest(
    host: string,
    repository: string,
    tag: string,
    signal?: AbortSignal,
  ): Promise<ManifestDigest> {
    const path = `/v2/${repository}/manifests/${encodeURIComponent(tag)}`
    const headers = { accept: MANIFEST_TYPES.join(', ') }
    const head = await this.#exchange(host, repository, 'HEAD', path, headers, signal)
    const digest = header(head, 'docker-content-digest')
    if (head.status === 200 && digest && isDigest(digest)) {
      return { digest, mediaType: header(head, 'content-type') }
    }
    // A HEAD answer has no body: ask again for the registry's explanation, or for the
    // manifest itself when the registry does not send its digest.
    const get = await this.#exchange(host, repository, 'GET', path, headers, signal)
    if (get.status !== 200) {
      throw refusal(host, `${repository}:${tag}`, get)
    }
    const sent = header(get, 'docker-content-digest')
    return {
      digest:
        sent && isDigest(sent)
          ? sent
          : `sha256:${createHash('sha256').update(get.body).digest('hex')}`,
      mediaType: header(get, 'content-type'),
    }
  }

  /**
   * The digest `host/repository:tag` names, unless the registry answers that the manifest's
   * ETag is still `etag` (the distribution registry's ETag is the digest, in quotes).
   */
  async manifestIfChanged(
    host: string,
    repository: string,
    tag: string,
    options: { etag?: string | null; signal?: AbortSignal } = {},
  ): Promise<Conditional<ManifestDigest>> {
    const path = `/v2/${repository}/manifests/${encodeURIComponent(tag)}`
    const headers: Record<string, string> = {
      accept: MANIFEST_TYPES.join(', '),
      ...(options.etag ? { 'if-none-match': options.etag } : {}),
    }
    const head = await this.#exchange(host, repository, 'HEAD', path, headers, options.signal)
    if (head.status === 304 && options.etag) {
      return { notModified: true }
    }
    const digest = header(head, 'docker-content-digest')
    if (head.status === 200 && digest && isDigest(digest)) {
      const mediaType = header(head, 'content-type')
      return { notModified: false, etag: header(head, 'etag'), digest, mediaType }
    }
    const asked = await this.manifestDigest(host, repository, tag, options.signal)
    return { notModified: false, etag: null, ...asked }
  }

  /** Every tag of `host/repository`, following the `Link` pages (at most 100 of them). */
  async listTags(
    host: string,
    repository: string,
    options: { pageSize?: number; signal?: AbortSignal } = {},
  ): Promise<string[]> {
    const answer = await this.tagsIfChanged(host, repository, options)
    return answer.notModified ? [] : answer.tags
  }

  /**
   * Every tag, unless the registry answers that the list's ETag is still `etag`. Only a list
   * of one page is given an ETag: a first page's ETag says nothing of the pages after it.
   */
  async tagsIfChanged(
    host: string,
    repository: string,
    options: { etag?: string | null; pageSize?: number; signal?: AbortSignal } = {},
  ): Promise<Conditional<{ tags: string[] }>> {
    const { pageSize = 100, signal } = options
    const tags: string[] = []
    let path: string | null = `/v2/${repository}/tags/list?n=${pageSize}`
    let etag: string | null = null
    for (let page = 0; path !== null && page < MAX_TAG_PAGES; page++) {
      const conditional: Record<string, string> =
        page === 0 && options.etag ? { 'if-none-match': options.etag } : {}
      const answer = await this.#exchange(host, repository, 'GET', path, conditional, signal)
      if (answer.status === 304 && page === 0 && options.etag) {
        return { notModified: true }
      }
      if (answer.status !== 200) {
        throw refusal(host, repository, answer)
      }
      etag = page === 0 ? header(answer, 'etag') : null
      const body = parseJson(answer.body) as { tags?: unknown } | null
      if (!body || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))) {
        throw new RegistryError(
          `${host} answered its tags list of ${repository} with no tags array`,
          200,
        )
      }
      tags.push(...(body.tags ?? []).filter((tag): tag is string => typeof tag === 'string'))
      path = nextPage(header(answer, 'link'), path, host)
    }
    return { notModified: false, etag, tags }
  }

  /** One request with auth: the cached token first, then the answer to a 401's challenge. */
  async #exchange(
    host: string,
    repository: string,
    method: 'GET' | 'HEAD',
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<RegistryAnswer> {
    const scope = `repository:${repository}:pull`
    const cacheKey = `${host}\n${scope}`
    const cached = this.#tokens.get(cacheKey)
    const authorization = cached && cached.expiresAt > Date.now() ? cached.authorization : undefined
    const first = await this.#send(
      host,
      method,
      path,
      { ...headers, ...(authorization ? { authorization } : {}) },
      signal,
    )
    if (first.status !== 401) {
      return first
    }
    const challenge = parseChallenge(header(first, 'www-authenticate') ?? undefined)
    const credentials = await this.#credentialsFor(host)
    let answer: string | null = null
    if (challenge?.scheme === 'bearer') {
      answer = await this.#token(host, challenge.params, scope, credentials, signal)
    } else if (challenge?.scheme === 'basic' && credentials) {
      answer = basicAuthorization(credentials)
    }
    if (!answer) {
      throw new RegistryError(
        `${host} asks for credentials and Deckhand has none for it; ${first.status} ` +
          refusalText(first, repository),
        401,
      )
    }
    this.#remember(cacheKey, answer, challenge?.scheme === 'bearer' ? undefined : 3600)
    const second = await this.#send(
      host,
      method,
      path,
      { ...headers, authorization: answer },
      signal,
    )
    if (second.status === 401) {
      this.#tokens.delete(cacheKey)
      const whose = credentials ? `the credentials Deckhand has for ${host}` : 'anonymous access'
      throw new RegistryError(`${host} refused ${whose}: ${refusalText(second, repository)}`, 401)
    }
    return second
  }

  /** Asks a Bearer challenge's realm for a token for `scope`, with basic credentials if any. */
  async #token(
    host: string,
    params: Record<string, string>,
    scope: string,
    credentials: Awaited<ReturnType<CredentialsFor>>,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    let realm: URL
    try {
      realm = new URL(params.realm ?? '')
    } catch {
      throw new RegistryError(`${host} named a token realm that is not a URL`, 401)
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new RegistryError(`${host} named a token realm that is not http(s)`, 401)
    }
    if (params.service) {
      realm.searchParams.set('service', params.service)
    }
    realm.searchParams.set('scope', params.scope ?? scope)
    // Credentials cross plain HTTP only to the registry's own host.
    const sendsCredentials = credentials && (realm.protocol === 'https:' || realm.host === host)
    const answer = await this.#request({
      method: 'GET',
      url: realm,
      headers: sendsCredentials ? { authorization: basicAuthorization(credentials) } : {},
      signal,
    })
    if (answer.status !== 200) {
      const asked = credentials ? 'the credentials Deckhand has' : 'an anonymous token'
      throw new RegistryError(
        `the token service of ${host} (${realm.origin}) refused ${asked}: ` +
          `${answer.status} ${errorText(answer)}`,
        answer.status,
      )
    }
    const token = readToken(answer)
    if (!token) {
      throw new RegistryError(
        `the token service of ${host} (${realm.origin}) answered no token`,
        502,
      )
    }
    const authorization = `Bearer ${token.token}`
    this.#remember(`${host}\n${params.scope ?? scope}`, authorization, token.expiresInSeconds)
    return authorization
  }

  #remember(key: string, authorization: string, seconds: number | undefined): void {
    if (seconds === undefined) {
      return
    }
    if (this.#tokens.size >= MAX_CACHED_TOKENS) {
      this.#tokens.delete(this.#tokens.keys().next().value!)
    }
    // A token is used until 10 s before it expires, so a slow request does not carry a dead one.
    this.#tokens.set(key, {
      authorization,
      expiresAt: Date.now() + Math.max(0, seconds - 10) * 1000,
    })
  }

  async #send(
    host: string,
    method: 'GET' | 'HEAD',
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<RegistryAnswer> {
    const known = this.#origins.get(host)
    if (known) {
      return this.#request({ method, url: new URL(path, known), headers, signal })
    }
    try {
      const answer = await this.#request({
        method,
        url: new URL(path, `https://${host}`),
        headers,
        signal,
      })
      this.#origins.set(host, `https://${host}`)
      return answer
    } catch (error) {
      // Docker treats registries on loopback as insecure: plain HTTP when TLS is not spoken
      // there. A certificate that is not trusted is an answer, never a reason to drop TLS.
      const cause = error instanceof RegistryError ? error.cause : undefined
      const notTls =
        cause instanceof RegistryUnreachable &&
        !cause.isCertificateError &&
        !cause.isClientCertificateRefused
      if (!notTls || !isLoopback(host) || signal?.aborted) {
        throw error
      }
      const answer = await this.#request({
        method,
        url: new URL(path, `http://${host}`),
        headers,
        signal,
      })
      this.#origins.set(host, `http://${host}`)
      return answer
    }
  }

  async #request(options: {
    method: 'GET' | 'HEAD'
    url: URL
    headers: Record<string, string>
    signal: AbortSignal | undefined
  }): Promise<RegistryAnswer> {
    const certs = await this.#certsFor(options.url)
    const extra = certs.flatMap((dir) => dir.ca)
    const client = certs.find((dir) => dir.clientCertificate !== null)?.clientCertificate
    try {
      return await registryRequest({
        ...options,
        ca: extra.length === 0 ? this.#ca : [...(this.#ca ?? rootCertificates), ...extra],
        clientCertificate: client ? { cert: client.cert, key: client.key } : undefined,
        connectTo: this.#connectTo ? loopbackOnly(this.#connectTo(options.url.host)) : undefined,
        maxBytes: this.#maxBytes,
        timeoutMs: this.#timeoutMs,
      })
    } catch (error) {
      if (error instanceof RegistryUnreachable && error.isClientCertificateRefused) {
        const where = certs[0]?.directory ?? 'no certs.d directory (DECKHAND_REGISTRY_CERTS_D)'
        const shown = client
          ? `refused the client certificate ${client.file}`
          : `asks for a TLS client certificate and Deckhand has none in ${where} ` +
            '(client.cert with client.key)'
        throw new RegistryError(`${options.url.host} ${shown}: ${error.message}`, null, {
          cause: error,
        })
      }
      if (error instanceof RegistryUnreachable) {
        throw new RegistryError(`the registry could not be asked: ${error.message}`, null, {
          cause: error,
        })
      }
      throw error
    }
  }

  /** certs.d's directories for an https request's host; none for http or without certs.d. */
  async #certsFor(url: URL): Promise<CertsDir[]> {
    const dir = this.#certsDir
    if (dir === undefined || url.protocol !== 'https:') {
      return []
    }
    // URL drops the default port, and Docker's directory for such a registry may carry it.
    const hosts = url.port === '' ? [url.host, `${url.host}:443`] : [url.host]
    try {
      return await Promise.all(hosts.map((host) => readCertsDir(dir, host)))
    } catch (error) {
      throw new RegistryError(
        `the registry's certificates could not be read: ${(error as Error).message}`,
        null,
        { cause: error },
      )
    }
  }
}

function loopbackOnly(address: { host: string; port: number }): { host: string; port: number } {
  if (!/^127\.\d+\.\d+\.\d+$/.test(address.host)) {
    throw new RegistryError(`connectTo named ${address.host}, not a loopback address`, null)
  }
  return address
}

function header(answer: RegistryAnswer, name: string): string | null {
  const value = answer.headers[name]
  return typeof value === 'string' ? value : null
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return null
  }
}

/** The registry's own words: its `errors[]` codes and messages, else the start of the body. */
function errorText(answer: RegistryAnswer): string {
  const body = parseJson(answer.body) as { errors?: { code?: unknown; message?: unknown }[] } | null
  if (body && Array.isArray(body.errors) && body.errors.length > 0) {
    return body.errors
      .slice(0, 3)
      .map((error) =>
        [error.code, error.message].filter((part) => typeof part === 'string').join(': '),
      )
      .join('; ')
  }
  const text = answer.body
    .toString('utf8', 0, 200)
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
  return text || '(no body)'
}

/**
 * Why a 401 came: the body's errors, or, for a HEAD (no body), the challenge's `error`
 * (Docker Hub's `insufficient_scope` for a private or missing repository) or its scheme.
 */
function refusalText(answer: RegistryAnswer, repository: string): string {
  if (answer.body.length > 0) {
    return errorText(answer)
  }
  const challenge = parseChallenge(header(answer, 'www-authenticate') ?? undefined)
  const error = challenge?.params.error
  if (error === 'insufficient_scope') {
    return (
      `insufficient_scope: the token does not allow pulling ${repository} (a private ` +
      'repository these credentials may not pull, or one that does not exist)'
    )
  }
  // A Basic challenge names its realm: the registry's own words for what it guards.
  const realm = challenge?.params.realm
  return error ?? (challenge ? `${challenge.scheme} realm "${realm ?? ''}"` : '(no body)')
}

function refusal(host: string, what: string, answer: RegistryAnswer): RegistryError {
  const hint = answer.status === 404 ? ' (the tag or repository does not exist there)' : ''
  return new RegistryError(
    `${host} answered ${answer.status} for ${what}${hint}: ${errorText(answer)}`,
    answer.status,
    { retryAfterMs: retryAfterMs(header(answer, 'retry-after')) },
  )
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now; null when absent or odd. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null || value.length > 64) {
    return null
  }
  if (/^\s*\d+\s*$/.test(value)) {
    return Number(value) * 1000
  }
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

/** The path of a `Link: <…>; rel="next"` on the same registry, or null. */
function nextPage(link: string | null, current: string, host: string): string | null {
  if (!link || link.length > 4096) {
    return null
  }
  const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link)
  if (!match) {
    return null
  }
  const next = new URL(match[1]!, `http://${host}`)
  if (next.host !== host || `${next.pathname}${next.search}` === current) {
    return null
  }
  return `${next.pathname}${next.search}`
}

function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '')
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name)
}
