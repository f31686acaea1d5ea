/**
 * Image references (`registry:5000/acme/web:2@sha256:…`), read one way everywhere: by the
 * call pipeline matching a sender's push to a service, and by the drivers that run a new tag.
 * Every function here is an index scan, linear in the reference: no regexp is retried at each
 * `:` or `@` of a hostile one.
 */

// Docker Hub's registry under the names a reference may give it.
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/** `registry:5000/acme/web:2@sha256:…` → `registry:5000/acme/web`: tag and digest go, port stays. */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf('@')
  const withoutDigest = at === -1 ? reference : reference.slice(0, at)
  const colon = withoutDigest.lastIndexOf(':')
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest
}

/**
 * The registry host of a reference, or undefined for Docker Hub's short form (`acme/web`). As
 * in Docker's reference grammar, the first segment is a host when it has a dot or a port, or
 * is `localhost`.
 */
function hostOf(repository: string): string | undefined {
  const slash = repository.indexOf('/')
  const first = slash === -1 ? '' : repository.slice(0, slash)
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined
}

/**
 * The repository path without its registry host or Docker Hub's `library/`, lower-case:
 * `docker.io/library/nginx` and `nginx` are one image, and `ghcr.io/acme/web:1` is `acme/web`,
 * because senders name the repository without the host (ACR says `web` for
 * `acmeregistry.azurecr.io/web`).
 */
export function repositoryPath(reference: string): string {
  const repository = repositoryOf(reference.toLowerCase())
  const host = hostOf(repository)
  const path = host === undefined ? repository : repository.slice(host.length + 1)
  return path.startsWith('library/') ? path.slice('library/'.length) : path
}

/**
 * Whether two references name one repository, whatever their tags: the same host (Docker Hub
 * under any of its names, or none) and the same path. `ghcr.io/acme/web` is not `acme/web`.
 */
export function isSameRepository(a: string, b: string): boolean {
  return canonical(a) === canonical(b)
}

/** `docker.io/<path>` for Docker Hub under any of its names, `library/` implied; else as is. */
function canonical(reference: string): string {
  const repository = repositoryOf(reference.toLowerCase())
  const host = hostOf(repository)
  if (host !== undefined && !DOCKER_HUB_HOSTS.has(host)) {
    return repository
  }
  const path = host === undefined ? repository : repository.slice(host.length + 1)
  return `docker.io/${path.startsWith('library/') ? path.slice('library/'.length) : path}`
}

/**
 * The image a replacement runs with `tag`: the running reference's repository, spelled as it
 * runs, unless the service names another repository, then that one; tags and digests dropped.
 */
export function withTag(current: string, serviceImage: string | null, tag: string): string {
  const own = repositoryOf(current)
  const keep = serviceImage === null || isSameRepository(serviceImage, own)
  return `${keep ? own : repositoryOf(serviceImage)}:${tag}`
}
