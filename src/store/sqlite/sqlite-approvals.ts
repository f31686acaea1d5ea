/**
 * Votes on SQLite. The single writer is the lock: a vote is read, counted and its move written
 * in one IMMEDIATE transaction, so votes cast at once are counted one after the other.
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
import type { SqliteConnection } from './sqlite-connection.ts'

export function castVote(
  connection: SqliteConnection,
  vote: VoteInput,
  decide: (deployment: Deployment, votes: readonly DeploymentVote[]) => VoteMove | undefined,
): Promise<VoteResult> {
  return connection.write((): VoteResult => {
    const id = vote.deploymentId
    const row = connection.get('SELECT * FROM deployments WHERE id = $id', { id })
    const deployment = row ? toDeployment(row) : undefined
    if (deployment?.state !== 'awaiting-approval') {
      return { kind: 'not-awaiting', deployment }
    }
    const previous = connection.get(
      'SELECT * FROM deployment_votes WHERE deployment_id = $id AND token_id = $token',
      { id, token: vote.tokenId },
    )
    if (previous) {
      return { kind: 'duplicate', previous: toVote(previous) }
    }
    const at = new Date().toISOString()
    connection.run(
      `INSERT INTO deployment_votes (deployment_id, token_id, token_name, vote, note, at)
       VALUES ($id, $token, $name, $vote, $note, $at)`,
      { id, token: vote.tokenId, name: vote.tokenName, vote: vote.vote, note: vote.note, at },
    )
    const votes = selectVotes(connection, id)
    const move = decide(deployment, votes)
    if (!move) {
      return { kind: 'recorded', deployment, votes }
    }
    const canceled = move.to === 'canceled'
    connection.run(
      'UPDATE deployments SET state = $to, finished_at = $finished, error = $error WHERE id = $id',
      {
        id,
        to: move.to,
        finished: canceled ? at : null,
        error: canceled ? (move.error ?? null) : null,
      },
    )
    const moved = connection.get('SELECT * FROM deployments WHERE id = $id', { id })!
    return { kind: 'recorded', deployment: toDeployment(moved), votes }
  })
}

export function listVotes(connection: SqliteConnection, deploymentId: string): DeploymentVote[] {
  return connection.read(() => selectVotes(connection, deploymentId))
}

function selectVotes(connection: SqliteConnection, deploymentId: string): DeploymentVote[] {
  return connection
    .all('SELECT * FROM deployment_votes WHERE deployment_id = $id ORDER BY at, token_id', {
      id: deploymentId,
    })
    .map(toVote)
}

/**
 * Inside an accept transaction: drops the votes a joining call made void and says so in the
 * deployment's log, so voters see why their approvals are gone.
 */
export function dropVotes(
  connection: SqliteConnection,
  deploymentId: string,
  reason: string,
): void {
  const dropped = connection.run('DELETE FROM deployment_votes WHERE deployment_id = $id', {
    id: deploymentId,
  })
  const last = connection.get(
    'SELECT MAX(seq) AS seq FROM deployment_logs WHERE deployment_id = $id',
    { id: deploymentId },
  )
  connection.run(
    `INSERT INTO deployment_logs (deployment_id, seq, at, stream, line)
     VALUES ($id, $seq, $at, 'deckhand', $line)`,
    {
      id: deploymentId,
      seq: Number(last?.seq ?? 0) + 1,
      at: new Date().toISOString(),
      line: votesDroppedLine(reason, dropped),
    },
  )
}
