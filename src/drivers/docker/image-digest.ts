/**
 * The manifest digest a docker redeploy will run, found before any container is touched: from
 * the image's registry (Registry HTTP API v2; Docker Hub's at registry-1.docker.io, with the
 * credentials config.json holds for it), or from the engine's own copy when the pull policy
 * keeps to it.
 */
import { repositoryOf } from '../../model/image-reference.ts'
import type { PullPolicy } from '../../model/index.ts'
import { parseImageName } from '../../registry/image-name.ts'
import type { RegistryClient } from '../../registry/registry-client.ts'
import type { RegistryCredentials } from '../../registry/registry-credentials.ts'
import { apiHostOf } from '../../registry/registry-endpoint.ts'
import { DeployFailure } from '../deploy-failure.ts'
import type { DriverContext, ResolvedImage } from '../driver.ts'
import type { DockerClient, ImageInspect } from './docker-client.ts'
import { engineStatus, isUnreachable } from './docker-client.ts'

/** The registry (or the engine for Docker Hub) would not resolve the tag: nothing is touched. */
export class DigestRefused extends DeployFailure {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'DigestRefused'
  }
}

/**
 * The refusal with where Deckhand looked for the registry's credentials, as a refused pull
 * says: the registry is asked before the engine pulls, so its 401 is the first to tell.
 */
export async function withCredentialSource(
  error: DigestRefused,
  credentials: RegistryCredentials | undefined,
  reference: string,
): Promise<DigestRefused> {
  const lookup = await credentials?.forImage(reference).catch(() => undefined)
  if (lookup === undefined) {
    return error
  }
  const said =
    lookup.auth === undefined
      ? `Deckhand has no credentials for ${lookup.host} (looked in ${lookup.source})`
      : `Deckhand sent the credentials from ${lookup.source}`
  return new DigestRefused(`${error.message}; ${said}`, { cause: error.cause })
}

/**
 * `reference` pinned to `digest` when it is of the repository the digest was resolved for
 * (a target's containers may run other images; those keep their tag).
 */
export function pinnedReference(
  reference: string,
  digest: string | undefined,
  resolvedFor: string,
): string {
  return digest && repositoryOf(reference) === repositoryOf(resolvedFor)
    ? `${reference}@${digest}`
    : reference
}

/**
 * Resolves `reference` (a tag, no digest). With deploy.pull `never`, or `missing` and the
 * image present, the engine's copy is what runs, so its digest is recorded and no registry
 * is asked; otherwise the registry is, and a tag it does not know fails with its answer.
 */
export async function resolveDigest(
  client: DockerClient,
  registry: RegistryClient,
  reference: string,
  policy: PullPolicy,
  ctx: DriverContext,
): Promise<ResolvedImage> {
  const name = parseImageName(reference)
  if (!name) {
    // An image ID or a name Docker reads differently: run it as it is.
    return { image: reference, digest: null }
  }
  if (policy !== 'always') {
    const local = await client
      .getImage(reference)
      .inspect()
      .catch((error: unknown) => {
        if (engineStatus(error) === 404) {
          return null
        }
        throw error
      })
    if (local || policy === 'never') {
      const digest = local ? localDigest(local, reference) : null
      if (digest) {
        ctx.log(`${reference} is ${digest} on the engine (deploy.pull is "${policy}")`)
      }
      return { image: reference, digest }
    }
  }
  const tag = name.tag ?? 'latest'
  // The engine's distribution inspect would ask Docker Hub without the credentials config.json
  // holds (the engine reads no config.json), so a private Hub image could not be resolved.
  const apiHost = apiHostOf(name.host)
  let digest: string
  try {
    digest = (await registry.manifestDigest(apiHost, name.repository, tag, ctx.signal)).digest
  } catch (error) {
    if (isUnreachable(error)) {
      throw error
    }
    throw new DigestRefused(
      `tag ${tag} of ${repositoryOf(reference)} could not be resolved to a digest, ` +
        `so nothing was changed: ${(error as Error).message}`,
      { cause: error },
    )
  }
  ctx.log(`${reference} is ${digest} (asked ${apiHost})`)
  return { image: reference, digest }
}

/** The digest the engine's copy of `reference` was pulled or pushed by, if any. */
function localDigest(image: ImageInspect, reference: string): string | null {
  const prefix = `${repositoryOf(reference)}@`
  const found = (image.RepoDigests ?? []).find((entry) => entry.startsWith(prefix))
  return found ? found.slice(prefix.length) : null
}
