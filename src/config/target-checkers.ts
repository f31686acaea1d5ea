/** Target checks usable without a running server (`deckhand config validate`), per driver. */
import { checkCommandTarget } from '../drivers/command/command-target.ts'
import { checkDockerTarget } from '../drivers/docker/docker-target.ts'
import { checkKubernetesTarget } from '../drivers/kubernetes/kubernetes-target.ts'
import { checkProcessTarget } from '../drivers/process/process-target.ts'
import { checkSwarmTarget } from '../drivers/swarm/swarm-target.ts'
import type { DriverName } from '../model/index.ts'
import type { TargetChecker } from '../specs/service-spec.ts'

// The server passes its DriverRegistry instead, which also refuses drivers not enabled there.
const CHECKERS: Record<DriverName, (target: Record<string, unknown>) => string[]> = {
  process: checkProcessTarget,
  command: checkCommandTarget,
  docker: checkDockerTarget,
  swarm: checkSwarmTarget,
  kubernetes: checkKubernetesTarget,
}

export const defaultTargetChecker: TargetChecker = (driver, target) => CHECKERS[driver](target)
