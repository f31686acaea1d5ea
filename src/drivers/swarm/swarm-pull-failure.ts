/**
 * A Swarm task whose node cannot pull its image does not say why: the agent logs the registry's
 * refusal and the task keeps the engine's next error, `No such image: <image>` (Docker 26, seen
 * with a private htpasswd registry and an update sent without credentials). The update then
 * rolls back or pauses as if the image were broken. When the image that could not be had is
 * the one the update asked for, the failure names what is most likely missing, the credentials
 * the workers pull with, and where Deckhand looked for them.
 */
import { withoutDigest } from '../../registry/image-name.ts'
import type { RegistryCredentials } from '../../registry/registry-credentials.ts'
import type { DriverOutcome } from '../driver.ts'

// What a task says when its image could not be pulled: the engine's words after a failed pull,
// and the registry's own where an engine passes them on.
const NO_SUCH_IMAGE = /No such image: ([^\s;,]+)/
const REFUSED = /pull access denied|no basic auth credentials|unauthorized|authentication required/i

/** `outcome` with the credentials problem named first, when its task error is a failed pull. */
export async function namePullFailure(
  outcome: DriverOutcome,
  image: string,
  credentials: RegistryCredentials | undefined,
): Promise<DriverOutcome> {
  if (outcome.state !== 'failed' || !isPullOf(outcome.error, image)) {
    return outcome
  }
  const lookup = await credentials?.forImage(image).catch(() => undefined)
  const said =
    lookup === undefined
      ? 'and Deckhand sent no registry credentials with the update'
      : lookup.auth === undefined
        ? `and Deckhand sent no credentials for ${lookup.host} with the update (none in ${lookup.source})`
        : `with the credentials Deckhand sent for ${lookup.host} (from ${lookup.source})`
  const next =
    lookup?.auth === undefined
      ? 'a node without its own docker login cannot pull from a registry that asks for them; add them to the config.json DECKHAND_REGISTRY_AUTH names'
      : 'the registry may refuse them, or not have the tag'
  return {
    ...outcome,
    error: `the Swarm tasks could not pull ${withoutDigest(image)} ${said}: ${next}. ${outcome.error}`,
  }
}

function isPullOf(error: string, image: string): boolean {
  const missing = NO_SUCH_IMAGE.exec(error)?.[1]
  return missing !== undefined
    ? withoutDigest(missing) === withoutDigest(image)
    : REFUSED.test(error) && error.includes(withoutDigest(image))
}
