/**
 * The rules of `deploy.approvals`, pure: what a deployment's votes decide, when its deadline
 * passes, and whether a call that joins it changed what was voted on.
 */
import { formatDuration } from '../model/duration.ts'
import type {
  ApprovalPolicy,
  Deployment,
  DeploymentInput,
  DeploymentParams,
  DeploymentVote,
} from '../model/index.ts'

/** The longest note a vote keeps; a longer one is refused, not cut. */
export const MAX_NOTE_CHARS = 500

/** What a deployment awaiting approval does next. */
export type ApprovalDecision =
  | { kind: 'waiting'; approvals: number }
  | { kind: 'approved' }
  | { kind: 'canceled'; reason: string }

/**
 * One rejection cancels, with its note; `required` approvals approve; otherwise it waits. A
 * rejection counts before approvals, so a change someone refused never runs.
 */
export function countVotes(
  policy: ApprovalPolicy,
  votes: readonly DeploymentVote[],
): ApprovalDecision {
  const rejection = votes.find((v) => v.vote === 'reject')
  if (rejection) {
    const why = rejection.note ? `: ${rejection.note}` : ''
    return { kind: 'canceled', reason: `rejected by ${rejection.tokenName}${why}` }
  }
  const approvals = votes.filter((v) => v.vote === 'approve').length
  return approvals >= policy.required ? { kind: 'approved' } : { kind: 'waiting', approvals }
}

/** When an awaiting deployment is canceled (ms since the epoch): its creation plus the deadline. */
export function approvalDeadline(
  policy: ApprovalPolicy,
  deployment: Pick<Deployment, 'createdAt'>,
): number {
  return Date.parse(deployment.createdAt) + policy.deadlineMs
}

/** The error a deployment canceled by its deadline records. */
export function deadlineReason(policy: ApprovalPolicy): string {
  return `approval deadline passed (${formatDuration(policy.deadlineMs)})`
}

/**
 * What the votes and the clock decide for a deployment awaiting approval: the deadline cancels
 * one whose votes did not decide it in time.
 */
export function approvalState(
  policy: ApprovalPolicy,
  deployment: Pick<Deployment, 'createdAt'>,
  votes: readonly DeploymentVote[],
  now: number,
): ApprovalDecision {
  const decision = countVotes(policy, votes)
  if (decision.kind === 'waiting' && now >= approvalDeadline(policy, deployment)) {
    return { kind: 'canceled', reason: deadlineReason(policy) }
  }
  return decision
}

/**
 * What a joining call changed that its voters did not see: the tag, or the environment the
 * instances get. Undefined when neither changed, so the votes stand.
 */
export function votedChange(
  before: { params: DeploymentParams; input: Pick<DeploymentInput, 'env'> },
  after: { params: DeploymentParams; input: Pick<DeploymentInput, 'env'> },
): string | undefined {
  if ((before.params.tag ?? null) !== (after.params.tag ?? null)) {
    return `the tag changed from ${before.params.tag ?? '(none)'} to ${after.params.tag ?? '(none)'}`
  }
  if (!sameEnv(before.input.env, after.input.env)) {
    return 'the environment changed'
  }
  return undefined
}

function sameEnv(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key])
}
