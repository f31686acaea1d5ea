/**
 * Where a deployment goes when it is created, and when its approvals are in: the one place
 * release controls decide between waiting for votes and the queue.
 */
import type { PendingState, Service } from '../model/index.ts'
import { holdFor } from './hold.ts'

/**
 * The state a new deployment of `service` starts in at `_at` (ms since the epoch; change
 * windows read it): awaiting approval when the service asks for votes, else queued.
 */
export function entryState(service: Pick<Service, 'deploy'>, _at: number): PendingState {
  return service.deploy.approvals ? 'awaiting-approval' : 'queued'
}

/**
 * The state an approved deployment of `service` moves to at `now` (ms since the epoch): held
 * while a freeze or the change windows say so (holdFor says why and until when), else queued.
 */
export function afterApproval(service: Service, now: number): PendingState {
  return holdFor(service, now) ? 'held' : 'queued'
}
