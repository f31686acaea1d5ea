/**
 * What a redeploy or rollback that did not succeed tried, where it differs from what runs: the
 * worker records it on the deployment, and the store puts the service row back (issue 16).
 */
import { canonicalJson } from '../model/canonical-json.ts'
import type { DeployedSpec, Deployment, Service, TriedChange } from '../model/index.ts'

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
