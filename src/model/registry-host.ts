/**
 * Which registry an image reference lives on, as Docker's reference grammar reads it: the
 * first path segment is a host when it has a dot or a port, or is `localhost`; otherwise the
 * image is on Docker Hub. Docker Hub answers to several names, which are one registry here.
 */
export const DOCKER_HUB = 'docker.io'

const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
])

/** `Registry.Example:5000` → `registry.example:5000`; every Docker Hub name → `docker.io`. */
export function normaliseRegistryHost(host: string): string {
  let text = host.trim().toLowerCase()
  // config.json keys are often URLs (`https://index.docker.io/v1/`): keep the authority only.
  const scheme = text.indexOf('://')
  if (scheme !== -1) {
    text = text.slice(scheme + 3)
  }
  const slash = text.indexOf('/')
  if (slash !== -1) {
    text = text.slice(0, slash)
  }
  return DOCKER_HUB_ALIASES.has(text) ? DOCKER_HUB : text
}

/** The normalised registry host of an image reference (`nginx` → `docker.io`). */
export function registryHostOf(image: string): string {
  const text = image.trim()
  const at = text.indexOf('@')
  const reference = at === -1 ? text : text.slice(0, at)
  const slash = reference.indexOf('/')
  if (slash === -1) {
    return DOCKER_HUB
  }
  const first = reference.slice(0, slash)
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost'
  return isHost ? normaliseRegistryHost(first) : DOCKER_HUB
}
