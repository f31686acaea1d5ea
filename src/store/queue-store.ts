/**
 * The queue seam: reading deployments, and the worker's claim → renew → finish, with cancel
 * and the recovery of abandoned ones. Used by queue/, the API's deployment routes and metrics.
 */
import type {
  Deployment,
  DeploymentState,
  Page,
  PageRequest,
  PendingState,
} from '../model/index.ts'
import type { DeploymentFilter, DeploymentOutcome, LeaseState } from './store.ts'

export interface QueueStore {
  /** The deployment with this id; undefined when unknown. */
  getDeployment(id: string): Promise<Deployment | undefined>
  /** Deployments, newest first, of one service or in one state when the filter says so. */
  listDeployments(filter: DeploymentFilter, page: PageRequest): Promise<Page<Deployment>>
  /** How many deployments are in a state now (queue depth, running count for metrics). */
  countDeployments(state: DeploymentState): Promise<number>
  /** The newest succeeded redeploy or rollback of the service before the given deployment. */
  lastSucceededBefore(service: string, beforeId: string | null): Promise<Deployment | undefined>

  /**
   * Claims the oldest queued deployment whose service has none running, marks it running
   * under `owner` with a lease, and returns it; undefined when nothing can start.
   */
  claimNext(owner: string, leaseMs: number): Promise<Deployment | undefined>
  /** Extends the lease; says whether this owner still holds it and whether cancel was asked. */
  renewLease(id: string, owner: string, leaseMs: number): Promise<LeaseState>
  /**
   * Ends a running deployment; touches only a row this owner holds. False otherwise. A success
   * sets the service's replicas, tag and `deployed`; a failure with `tried` records it and puts
   * the service's target and image back to what runs (DeploymentOutcome).
   */
  finishDeployment(id: string, owner: string, outcome: DeploymentOutcome): Promise<boolean>
  /**
   * Cancels a deployment that has not started at once, or flags a running one for its worker to stop.
   * Returns the deployment after the change; undefined when unknown.
   */
  cancelDeployment(id: string): Promise<Deployment | undefined>
  /**
   * Moves a deployment that has not started from one of `from` to `to` (approved, held, released
   * or canceled by a release control); `error` is recorded with a cancel. Returns the deployment
   * after the move; undefined when it was not in one of `from` (someone moved it first).
   */
  moveDeployment(
    id: string,
    from: readonly PendingState[],
    to: PendingState | 'canceled',
    error?: string,
  ): Promise<Deployment | undefined>
  /**
   * Marks running deployments as failed with `reason` and returns them: those whose lease
   * expired, every one (a single-writer store at start), or those of one owner.
   */
  failAbandoned(reason: string, scope: 'expired' | 'all' | { owner: string }): Promise<Deployment[]>
}
