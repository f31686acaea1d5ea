/** Image references split into registry host, repository, tag and digest, as Docker reads them. */
import { DOCKER_HUB, normaliseRegistryHost } from '../model/registry-host.ts'

/** The registry Docker means when a reference names no host. */
export { DOCKER_HUB }

export interface ImageName {
  /** The registry's `host[:port]`; `docker.io` when the reference names none. */
  host: string
  /** The repository inside the registry (`acme/web`; `library/nginx` on Docker Hub). */
  repository: string
  /** The tag, or null when the reference has none (Docker then means `latest`). */
  tag: string | null
  /** The manifest digest pinned with `@`, or null. */
  digest: string | null
}

// The distribution spec's grammar, without its nested quantifiers: each part is matched once.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^\w[\w.-]{0,127}$/
const DIGEST = /^sha(?:256:[a-f0-9]{64}|384:[a-f0-9]{96}|512:[a-f0-9]{128})$/
const HOST = /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/

/** True when `text` is a manifest digest Deckhand accepts (`sha256:` and 64 hex digits, …). */
export function isDigest(text: string): boolean {
  return DIGEST.test(text)
}

/**
 * Parses `host:port/acme/web:2@sha256:…`; null when `reference` is not one. The first part is
 * a host when it has a `.` or `:` or is `localhost`, as Docker decides.
 */
export function parseImageName(reference: string): ImageName | null {
  // An image ID names no repository.
  if (reference.length > 512 || reference.startsWith('sha256:')) {
    return null
  }
  const at = reference.indexOf('@')
  const digest = at === -1 ? null : reference.slice(at + 1)
  if (digest !== null && !isDigest(digest)) {
    return null
  }
  let rest = at === -1 ? reference : reference.slice(0, at)
  let tag: string | null = null
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) {
      return null
    }
  }
  const parts = rest.split('/')
  const first = parts[0] ?? ''
  const hasHost =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (hasHost && !HOST.test(first)) {
    return null
  }
  // Every name of Docker Hub (`index.docker.io`, `registry-1.docker.io`, …) is `docker.io`.
  const host = hasHost ? normaliseRegistryHost(first) : DOCKER_HUB
  const path = hasHost ? parts.slice(1) : parts
  if (path.length === 0 || !path.every((part) => COMPONENT.test(part))) {
    return null
  }
  const repository =
    host === DOCKER_HUB && path.length === 1 ? `library/${path[0]}` : path.join('/')
  return { host, repository, tag, digest }
}

/** `repository:tag@digest` without the digest: what a pinned reference was asked by. */
export function withoutDigest(reference: string): string {
  const at = reference.indexOf('@')
  return at === -1 ? reference : reference.slice(0, at)
}
