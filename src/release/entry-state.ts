/**
 * Where a deployment goes when it is created, and when its approvals are in: the one place
 * release controls decide between waiting for votes and the queue.
 */
import type { PendingState, Service } from '../model/index.ts'

/**
 * The state a new deployment of `service` starts in at `_at` (ms since the epoch; change
 * windows read it): awaiting approval when the service asks for votes, else queued.
 */
export function entryState(service: Pick<Service, 'deploy'>, _at: number): PendingState {
  return service.deploy.approvals ? 'awaiting-approval' : 'queued'
}

/**
 * The state an approved deployment of `_service` moves to at `_now` (ms since the epoch):
 * queued; change windows may hold it instead.
 */
export function afterApproval(_service: Pick<Service, 'deploy'>, _now: number): PendingState {
  return 'queued'
}
