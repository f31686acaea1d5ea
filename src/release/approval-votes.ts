/**
 * An admin's vote on a deployment awaiting approval, from the API: the store records it and the
 * move it decides in one transaction; this announces the move (the worker wakes for a queued
 * one, listeners hear a canceled one end).
 */
import type { EventBus } from '../events.ts'
import type { ApprovalPolicy, Deployment, DeploymentVote, Service, Vote } from '../model/index.ts'
import type { VoteMove, VoteResult } from '../store/approvals-store.ts'
import type { Store } from '../store/store.ts'
import { approvalState } from './approvals.ts'
import { afterApproval } from './entry-state.ts'
import { holdFor } from './hold.ts'

export interface VoteDeps {
  store: Store
  events: EventBus
  /** The clock the deadline is read on (ms since the epoch). */
  now?: () => number
}

/**
 * A service whose approvals were removed while a deployment awaited them: one approval
 * releases it, and no deadline applies.
 */
const NO_LONGER_REQUIRED: ApprovalPolicy = { required: 1, deadlineMs: Number.POSITIVE_INFINITY }

/** Where the votes and the clock move an awaiting deployment of `service`; undefined: it waits. */
export function approvalMove(
  service: Service | undefined,
  deployment: Deployment,
  votes: readonly DeploymentVote[],
  now: number,
): VoteMove | undefined {
  const policy = service?.deploy.approvals ?? NO_LONGER_REQUIRED
  const decision = approvalState(policy, deployment, votes, now)
  if (decision.kind === 'approved') {
    return { to: service ? afterApproval(service, now) : 'queued' }
  }
  return decision.kind === 'canceled' ? { to: 'canceled', error: decision.reason } : undefined
}

/** Announces where a vote or the sweeper moved a deployment. */
export function announceMove(
  events: EventBus,
  deployment: Deployment,
  service: Service | undefined,
): void {
  if (deployment.state === 'queued') {
    events.emit('deployment:queued', { deployment })
  } else if (deployment.state === 'canceled') {
    events.emit('deployment:finished', { deployment, service })
  }
}

/** Casts `vote` by the admin token `token` on deployment `id`, and announces what it moved. */
export async function castApprovalVote(
  deps: VoteDeps,
  id: string,
  token: { id: string; name: string },
  vote: Vote,
  note: string | null,
): Promise<VoteResult> {
  const now = deps.now ?? Date.now
  const before = await deps.store.getDeployment(id)
  const service = before ? await deps.store.getService(before.service) : undefined
  const result = await deps.store.castVote(
    { deploymentId: id, tokenId: token.id, tokenName: token.name, vote, note },
    (deployment, votes) => approvalMove(service, deployment, votes, now()),
  )
  if (result.kind === 'recorded' && result.deployment.state === 'held' && service) {
    // Approved outside its windows or while frozen: it waits, saying why, for the release timer.
    const hold = holdFor(service, now())
    const held = hold && (await deps.store.holdDeployment(id, hold))
    return held ? { ...result, deployment: held } : result
  }
  if (result.kind === 'recorded' && result.deployment.state !== 'awaiting-approval') {
    announceMove(deps.events, result.deployment, service)
  }
  return result
}
