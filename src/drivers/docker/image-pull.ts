/** Image references and the pull policy, applied before any container is touched. */
import type { LogWriter } from '../driver.ts'
import { withTag } from '../../model/image-reference.ts'
import type { PullPolicy } from '../../model/index.ts'
import type { DockerClient, ImageInspect } from './docker-client.ts'
import { engineMessage, engineStatus } from './docker-client.ts'
import { DeployFailure } from '../deploy-failure.ts'

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
): Promise<ImageInspect> {
  if (policy === 'always') {
    await pull(client, reference, log, 'deploy.pull is "always"')
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
  await pull(client, reference, log, 'it is not on the engine')
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
): Promise<void> {
  log(`pulling ${reference} (${why})`)
  const started = Date.now()
  try {
    await client.pullImage(reference)
  } catch (error) {
    throw new DeployFailure(
      `pulling ${reference} failed, nothing was changed: ${engineMessage(error)}; check the image name and tag and that the engine can reach its registry, or set deploy.pull to "missing" or "never" to use images already on the engine`,
      { cause: error },
    )
  }
  log(`pulled ${reference} in ${Date.now() - started} ms`)
}
