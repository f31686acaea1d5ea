/**
 * The store's part of `deploy.approvals`: votes on deployments awaiting approval, recorded with
 * the move they decide in one transaction. Both backends implement it (sqlite-approvals.ts,
 * postgres-approvals.ts), and both map vote rows with toVote.
 */
import type { Deployment, DeploymentVote, PendingState, Vote } from '../model/index.ts'

/** A vote as cast: the time is the store's. */
export type VoteInput = Omit<DeploymentVote, 'at'>

/** Where a vote moves its deployment; `error` is recorded with a cancel. */
export interface VoteMove {
  to: PendingState | 'canceled'
  error?: string
}

/** What casting a vote did. */
export type VoteResult =
  /** Recorded; `deployment` is as the vote left it (moved or still awaiting). */
  | { kind: 'recorded'; deployment: Deployment; votes: DeploymentVote[] }
  /** Nothing recorded: the deployment is unknown (undefined) or not awaiting approval. */
  | { kind: 'not-awaiting'; deployment: Deployment | undefined }
  /** Nothing recorded: this token voted on this deployment already. */
  | { kind: 'duplicate'; previous: DeploymentVote }

export interface ApprovalsStore {
  /**
   * Records one vote on a deployment awaiting approval and, in the same transaction, moves it
   * where `decide` says given every vote so far (this one included): two votes at once are
   * counted one after the other, so neither misses the other and only one moves it.
   */
  castVote(
    vote: VoteInput,
    decide: (deployment: Deployment, votes: readonly DeploymentVote[]) => VoteMove | undefined,
  ): Promise<VoteResult>
  /** The votes on a deployment, oldest first. */
  listVotes(deploymentId: string): Promise<DeploymentVote[]>
}

/** A deployment_votes row as a vote; times are ISO text on both backends. */
export function toVote(row: Record<string, unknown>): DeploymentVote {
  const at = row.at
  return {
    deploymentId: String(row.deployment_id),
    tokenId: String(row.token_id),
    tokenName: String(row.token_name),
    vote: String(row.vote) as Vote,
    note: row.note === null || row.note === undefined ? null : String(row.note),
    at: at instanceof Date ? at.toISOString() : String(at),
  }
}

/** The line a deployment's log gets when a joining call drops its votes. */
export function votesDroppedLine(reason: string, dropped: number): string {
  const votes = dropped === 1 ? '1 vote' : `${dropped} votes`
  return `${reason} while awaiting approval: ${votes} dropped, approvals start over`
}
