/**
 * What a redeploy or rollback that did not succeed tried, where it differs from what runs: the
 * worker records it on the deployment, and the store puts the service row back (issue 16).
 * The store computes it too for a deployment a crash or a lost instance left running.
 */
import { canonicalJson } from '../model/canonical-json.ts'
import type { DeployedSpec, Deployment, Service, TriedChange } from '../model/index.ts'
import { redactSecrets } from '../model/secret-redactor.ts'

/** The target and image a redeploy of `service` puts on the runtime. */
export function deployedOf(service: Service): DeployedSpec {
  return { target: service.target, image: service.image }
}

/**
 * The change `deployment` tried on `service` (as it was read when the deployment started);
 * undefined for a scale, or when it tried nothing but to run again what runs.
 */
export function triedChange(service: Service, deployment: Deployment): TriedChange | undefined {
  if (deployment.action === 'scale') {
    return undefined
  }
  const tried: TriedChange = {}
  // A service not read from a store has no `deployed`: then nothing is known to differ.
  const deployed = service.deployed
  if (deployed && canonicalJson(service.target) !== canonicalJson(deployed.target)) {
    tried.target = service.target
  }
  if (deployed && service.image !== deployed.image) {
    tried.image = service.image
  }
  const tag = deployment.params.tag
  if (tag !== undefined && tag !== service.tag) {
    tried.tag = tag
  }
  return Object.keys(tried).length > 0 ? tried : undefined
}

/**
 * The `tried` column as recorded: every string redacted, as a deployment's error is, when it is
 * written (a target may spell out a token). The store compares the row with the unredacted
 * change before it writes this, so a target holding a secret is still put back.
 */
export function triedColumn(tried: TriedChange): string {
  return JSON.stringify(redactStrings(tried))
}

function redactStrings(value: unknown): unknown {
  if (typeof value === 'string') {
    return redactSecrets(value)
  }
  if (Array.isArray(value)) {
    return value.map(redactStrings)
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [redactSecrets(key), redactStrings(inner)]),
    )
  }
  return value
}
