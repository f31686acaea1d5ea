/**
 * Where an image reference's registry is asked, and under which config.json keys its
 * credentials are kept. Docker Hub answers to several names, none of them the one its API
 * lives on: `nginx`, `library/nginx`, `docker.io/nginx` and `index.docker.io/library/nginx` are
 * one image, asked at `registry-1.docker.io` as `library/nginx`, whose credentials `docker
 * login` stores under `https://index.docker.io/v1/`.
 */
import { DOCKER_HUB, normaliseRegistryHost } from '../model/registry-host.ts'
import { parseImageName } from './image-name.ts'

/** The host Docker Hub's Registry HTTP API answers on. */
export const DOCKER_HUB_API = 'registry-1.docker.io'

// The key the docker CLI stores Docker Hub's credentials under, and asks helpers for; then the
// other names people write by hand, and the API host some tools store.
const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
]

export interface RegistryEndpoint {
  /** The registry as references and messages name it: `docker.io`, `127.0.0.1:5000`. */
  registry: string
  /** Where the Registry HTTP API is asked: `registry-1.docker.io` for Docker Hub. */
  apiHost: string
  /** The repository there: `library/nginx` for Docker Hub's official `nginx`. */
  repository: string
  /**
   * The config.json keys (`auths`, `credHelpers`) that name this registry, in the order they
   * are tried; the first is the server a credential helper is asked for.
   */
  credentialKeys: string[]
}

/** The endpoint of `reference`'s registry; null when `reference` is not an image reference. */
export function registryEndpoint(reference: string): RegistryEndpoint | null {
  const name = parseImageName(reference)
  if (!name) {
    return null
  }
  return {
    registry: name.host,
    apiHost: apiHostOf(name.host),
    repository: name.repository,
    credentialKeys: credentialKeysOf(name.host),
  }
}

/** The host a registry's API is asked at; `registry` is normalised (`docker.io`). */
export function apiHostOf(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry
}

/**
 * The config.json keys of a normalised registry, in the order tried: the exact names the
 * docker CLI writes (`host:port`, or Docker Hub's server URL first), then the URL forms
 * `docker login https://host` leaves. A key of another spelling that names the same registry
 * still counts, after these (see credentialEntry).
 */
export function credentialKeysOf(registry: string): string[] {
  if (registry === DOCKER_HUB) {
    return [...DOCKER_HUB_KEYS]
  }
  return [registry, `https://${registry}`, `http://${registry}`]
}

/**
 * The entry of `entries` (a config.json section, in file order) for `registry`: the first of
 * its credential keys present, else the first key that names the same registry when
 * normalised (`https://registry.example:5000/v2/`), as the docker CLI falls back to.
 */
export function credentialEntry<T>(
  entries: ReadonlyMap<string, T>,
  registry: string,
): { key: string; value: T } | undefined {
  for (const key of credentialKeysOf(registry)) {
    const value = entries.get(key)
    if (value !== undefined) {
      return { key, value }
    }
  }
  for (const [key, value] of entries) {
    if (normaliseRegistryHost(key) === registry) {
      return { key, value }
    }
  }
  return undefined
}
