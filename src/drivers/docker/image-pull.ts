/** Image references and the pull policy, applied before any container is touched. */
import { withTag } from '../../model/image-reference.ts'
import type { PullPolicy } from '../../model/index.ts'
import type { RegistryCredentials, RegistryLookup } from '../../registry/registry-credentials.ts'
import { DeployFailure } from '../deploy-failure.ts'
import type { LogWriter } from '../driver.ts'
import type { DockerClient, ImageInspect } from './docker-client.ts'
import { engineMessage, engineStatus } from './docker-client.ts'

/**
 * The image a replacement runs: the service's repository (or the current one) with the new tag
 * (model/image-reference.ts), or the current reference unchanged when no tag is asked for.
 */
export function imageReference(
  current: string,
  repository: string | null,
  tag: string | undefined,
): string {
  return tag === undefined ? current : withTag(current, repository, tag)
}

/** Makes `reference` present on the engine as `policy` says; DeployFailure when it cannot. */
export async function ensureImage(
  client: DockerClient,
  reference: string,
  policy: PullPolicy,
  log: LogWriter,
  credentials?: RegistryCredentials,
): Promise<ImageInspect> {
  if (policy === 'always') {
    await pull(client, reference, log, 'deploy.pull is "always"', credentials)
    return inspectImage(client, reference)
  }
  const local = await inspectImage(client, reference).catch((error: unknown) => {
    if (engineStatus(error) === 404) {
      return null
    }
    throw error
  })
  if (local) {
    log(`image ${reference} is present on the engine (${local.Id.slice(7, 19)}), not pulling`)
    return local
  }
  if (policy === 'never') {
    throw new DeployFailure(
      `image ${reference} is not on the engine and deploy.pull is "never"; build or load it there, or set deploy.pull to "missing"`,
    )
  }
  await pull(client, reference, log, 'it is not on the engine', credentials)
  return inspectImage(client, reference)
}

function inspectImage(client: DockerClient, reference: string): Promise<ImageInspect> {
  return client.getImage(reference).inspect()
}

async function pull(
  client: DockerClient,
  reference: string,
  log: LogWriter,
  why: string,
  credentials: RegistryCredentials | undefined,
): Promise<void> {
  const lookup = await lookUpCredentials(credentials, reference)
  const withCredentials = lookup?.auth ? ` with credentials from ${lookup.source}` : ''
  log(`pulling ${reference} (${why})${withCredentials}`)
  const started = Date.now()
  try {
    await client.pullImage(reference, lookup?.auth)
  } catch (error) {
    throw new DeployFailure(pullFailure(reference, engineMessage(error), lookup), { cause: error })
  }
  log(`pulled ${reference} in ${Date.now() - started} ms`)
}

/**
 * Names the registry and where Deckhand looked for its credentials. Without credentials the
 * engine's answer need not say so: for a registry it reaches over TLS it cannot verify (any
 * 127.0.0.0/8 one) it falls back to plain HTTP and reports that instead of the 401.
 */
function pullFailure(
  reference: string,
  message: string,
  lookup: RegistryLookup | undefined,
): string {
  const failed = `pulling ${reference} failed, nothing was changed`
  const check =
    'check the image name and tag and that the engine can reach its registry, ' +
    'or set deploy.pull to "missing" or "never" to use images already on the engine'
  if (lookup?.auth !== undefined) {
    return REFUSED_CREDENTIALS.test(message)
      ? `${failed}: registry ${lookup.host} refused the pull (${message}); ` +
          `Deckhand sent the credentials from ${lookup.source}: check them`
      : `${failed}: ${message}; Deckhand sent the credentials from ${lookup.source}; ${check}`
  }
  if (lookup !== undefined) {
    const { host, source } = lookup
    const refused = REFUSED_CREDENTIALS.test(message)
      ? `registry ${host} refused the pull (${message})`
      : message
    return (
      `${failed}: ${refused}; Deckhand has no credentials for ${host} (looked in ${source}): ` +
      `if it is private, run docker login ${host} for that file or point ` +
      `DECKHAND_REGISTRY_AUTH at a config.json that has them; otherwise ${check}`
    )
  }
  return `${failed}: ${message}; ${check}`
}

// How the engine words a registry's 401 and 403 (distribution, Docker Hub, GHCR, Harbor).
const REFUSED_CREDENTIALS =
  /no basic auth credentials|unauthori[sz]ed|authentication required|denied|forbidden/i

async function lookUpCredentials(credentials: RegistryCredentials | undefined, reference: string) {
  if (credentials === undefined) {
    return undefined
  }
  try {
    return await credentials.forImage(reference)
  } catch (error) {
    throw new DeployFailure(
      `pulling ${reference} was not tried, nothing was changed: ${(error as Error).message}`,
      { cause: error },
    )
  }
}
