/**
 * The store's verbs for change windows and freezes: a service's freeze, the deployments held
 * by one, and moving them on. Part of Store; each method is one transaction, and the moves are
 * conditional on the state, so of two instances releasing the same deployment only one wins.
 */
import type {
  Deployment,
  DeploymentHold,
  PendingState,
  Service,
  ServiceFreeze,
} from '../model/index.ts'

export interface HoldsStore {
  /** Sets a service's freeze, or lifts it (null); the service after, undefined when unknown. */
  setFreeze(name: string, freeze: ServiceFreeze | null): Promise<Service | undefined>
  /** Held deployments, oldest first, at most `limit`. */
  listHeld(limit: number): Promise<Deployment[]>
  /** Records why and until when a deployment still `held` waits; undefined when it is not. */
  holdDeployment(id: string, hold: DeploymentHold): Promise<Deployment | undefined>
  /**
   * Moves a deployment in one of `from` to `queued` and clears its hold: released by the timer,
   * by an unfreeze or by an admin's start. Undefined when it was not in `from` (moved first).
   */
  releaseDeployment(id: string, from: readonly PendingState[]): Promise<Deployment | undefined>
}
