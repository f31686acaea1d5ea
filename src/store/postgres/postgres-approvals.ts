/**
 * Votes on PostgreSQL. A vote locks its deployment's row first: votes cast at once on any
 * instances are counted one after the other, each seeing those committed before it, and a
 * call joining the deployment (which locks the same row) cannot drop votes in between.
 */
import type { Deployment, DeploymentVote } from '../../model/index.ts'
import {
  toVote,
  type VoteInput,
  type VoteMove,
  type VoteResult,
  votesDroppedLine,
} from '../approvals-store.ts'
import { toDeployment } from '../row-mapping.ts'
import { LOG_CHANNEL } from '../store.ts'
import type { PostgresConnection, Queryable } from './postgres-connection.ts'

export function castVote(
  c: PostgresConnection,
  vote: VoteInput,
  decide: (deployment: Deployment, votes: readonly DeploymentVote[]) => VoteMove | undefined,
): Promise<VoteResult> {
  return c.transaction(async (q): Promise<VoteResult> => {
    const id = vote.deploymentId
    const row = await q.row('SELECT * FROM deployments WHERE id = $1 FOR UPDATE', [id])
    const deployment = row ? toDeployment(row) : undefined
    if (deployment?.state !== 'awaiting-approval') {
      return { kind: 'not-awaiting', deployment }
    }
    const previous = await q.row(
      'SELECT * FROM deployment_votes WHERE deployment_id = $1 AND token_id = $2',
      [id, vote.tokenId],
    )
    if (previous) {
      return { kind: 'duplicate', previous: toVote(previous) }
    }
    await q.rows(
      `INSERT INTO deployment_votes (deployment_id, token_id, token_name, vote, note, at)
       VALUES ($1, $2, $3, $4, $5, clock_timestamp())`,
      [id, vote.tokenId, vote.tokenName, vote.vote, vote.note],
    )
    const votes = await selectVotes(q, id)
    const move = decide(deployment, votes)
    if (!move) {
      return { kind: 'recorded', deployment, votes }
    }
    const canceled = move.to === 'canceled'
    const moved = await q.row(
      `UPDATE deployments SET state = $2,
          finished_at = CASE WHEN $3 THEN clock_timestamp() END, error = CASE WHEN $3 THEN $4 END
        WHERE id = $1 RETURNING *`,
      [id, move.to, canceled, move.error ?? null],
    )
    if (canceled) {
      // As every end of a deployment does: waiters and followers on other instances re-read it.
      await q.rows('SELECT pg_notify($1, $2)', [LOG_CHANNEL, id])
    }
    return { kind: 'recorded', deployment: toDeployment(moved!), votes }
  })
}

export async function listVotes(
  c: PostgresConnection,
  deploymentId: string,
): Promise<DeploymentVote[]> {
  return selectVotes(c, deploymentId)
}

function selectVotes(q: Queryable, deploymentId: string): Promise<DeploymentVote[]> {
  return q
    .rows('SELECT * FROM deployment_votes WHERE deployment_id = $1 ORDER BY at, token_id', [
      deploymentId,
    ])
    .then((rows) => rows.map(toVote))
}

/**
 * Inside an accept transaction, which holds the deployment's row lock: drops the votes a
 * joining call made void and says so in the deployment's log, under the log's own lock
 * (postgres-logs.ts) so its lines stay numbered without gaps.
 */
export async function dropVotes(q: Queryable, deploymentId: string, reason: string): Promise<void> {
  const dropped = await q.rows(
    'DELETE FROM deployment_votes WHERE deployment_id = $1 RETURNING token_id',
    [deploymentId],
  )
  await q.rows(
    "SELECT pg_advisory_xact_lock(hashtextextended('deckhand:log:' || $1, 0)), pg_notify($2, $1)",
    [deploymentId, LOG_CHANNEL],
  )
  await q.rows(
    `INSERT INTO deployment_logs (deployment_id, seq, at, stream, line)
     SELECT $1, COALESCE(MAX(seq), 0) + 1, clock_timestamp(), 'deckhand', $2
       FROM deployment_logs WHERE deployment_id = $1`,
    [deploymentId, votesDroppedLine(reason, dropped.length)],
  )
}
