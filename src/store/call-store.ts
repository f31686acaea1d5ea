/**
 * The calls seam: accepting a call with its deployments, recording one that queued nothing,
 * and reading calls back. Used by calls/ (the only writer) and the API's call listings.
 */
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  RecordedCall,
} from '../model/call-accept.ts'
import type { Call, Page, PageRequest } from '../model/index.ts'
import type { CallFilter } from './store.ts'

export interface CallStore {
  /**
   * Records a call and queues or joins a deployment for each intent, in one transaction:
   * lock, read the facts, planAccept (calls/plan-accept.ts), write what it planned.
   * Resolves only after the commit is durable: this is what a 202 promises.
   */
  acceptCall(
    call: CallInput,
    intents: DeploymentIntent[],
    options?: AcceptOptions,
  ): Promise<AcceptResult>
  /** Records a call that queued nothing (ignored, rejected, duplicate). */
  recordCall(call: RecordedCall, deploymentIds?: string[]): Promise<Call>
  /** The first call of this trigger with this delivery id since `since` (ISO time). */
  findCallByDelivery(
    triggerId: string,
    deliveryId: string,
    since: string,
  ): Promise<Call | undefined>
  /** Calls, newest first, of one trigger or with one outcome when the filter says so. */
  listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>>
}
