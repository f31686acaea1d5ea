/** The swarm driver's target: one Swarm service by name or id. */
import { DeckhandError } from '../../errors.ts'

export interface SwarmTarget {
  service: string
}

/** Problems with a swarm target, as sentences naming the field; empty when valid. */
export function checkSwarmTarget(target: Record<string, unknown>): string[] {
  const problems = Object.keys(target)
    .filter((key) => key !== 'service')
    .map(
      (key) => `target.${key} is not a swarm target field; a swarm target is {"service": "<name>"}`,
    )
  if (typeof target.service !== 'string' || target.service.trim() === '') {
    problems.push('target.service must be the name or id of a Swarm service, such as "web"')
  }
  return problems
}

/** The checked target; throws DH_ERR_DRIVER_TARGET with every problem when it is not valid. */
export function parseSwarmTarget(target: Record<string, unknown>): SwarmTarget {
  const problems = checkSwarmTarget(target)
  if (problems.length > 0) {
    throw new DeckhandError('DH_ERR_DRIVER_TARGET', problems.join('; '))
  }
  return { service: String(target.service) }
}
