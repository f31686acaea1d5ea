/** Target checks usable without a running server (`deckhand config validate`), per driver. */
import { checkProcessTarget } from '../drivers/process/process-target.ts'
import type { DriverName } from '../model/index.ts'
import type { TargetChecker } from '../specs/service-spec.ts'

// Drivers whose target module has landed; the server passes its DriverRegistry instead, which
// also refuses drivers that are not enabled there.
const CHECKERS: Partial<Record<DriverName, (target: Record<string, unknown>) => string[]>> = {
  process: checkProcessTarget,
}

export const defaultTargetChecker: TargetChecker = (driver, target) => CHECKERS[driver]?.(target) ?? []
