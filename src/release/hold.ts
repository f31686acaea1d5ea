/**
 * Whether a new or held deployment of a service must wait, and until when: a freeze first
 * (until it ends, or null while it has no end), then the change windows (until the next one
 * opens). Pure: planAccept asks it when a deployment is created, the release timer when it
 * checks held ones.
 */
import type { DeploymentHold, Service } from '../model/index.ts'
import { isFrozen } from './freeze.ts'
import { nextOpening } from './windows.ts'

/** Why a deployment of `service` waits at `now` (ms), and until when; null when it may start. */
export function holdFor(service: Service, now: number): DeploymentHold | null {
  const freeze = service.freeze
  if (freeze && isFrozen(freeze, now)) {
    return { until: freeze.until, reason: `frozen: ${freeze.message}` }
  }
  const windows = service.deploy.windows ?? []
  if (windows.length === 0) {
    return null
  }
  const opening = nextOpening(windows, now)
  if (opening === now) {
    return null
  }
  const described = windows.map((w) => `${w.days} ${w.hours} ${w.timezone}`).join('; ')
  return {
    until: opening === undefined ? null : new Date(opening).toISOString(),
    reason: `outside the change windows (${described})`,
  }
}
