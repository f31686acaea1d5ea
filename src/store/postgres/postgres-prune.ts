/** The pruning statements on PostgreSQL (store-prune.ts walks them); each autocommits. */
import type { PruneSteps } from '../store-prune.ts'
import type { PostgresConnection } from './postgres-connection.ts'

export function postgresPruneSteps(c: PostgresConnection): PruneSteps {
  return {
    // Only the oldest `batch` rows are looked at, through the primary key; the edge of the count
    // bound is found by walking `keep` index entries down from the newest. Instances pruning at
    // once delete the same rows; the second finds them gone, which is harmless.
    deleteCalls: async (before, keep, batch) => {
      const row = await c.row(
        `WITH edge AS (SELECT seq FROM calls ORDER BY seq DESC OFFSET $2 LIMIT 1),
              oldest AS (SELECT seq, received_at FROM calls ORDER BY seq LIMIT $3),
              gone AS (DELETE FROM calls WHERE seq IN (
                SELECT seq FROM oldest WHERE received_at < $1 OR seq <= (SELECT seq FROM edge))
                RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [before, keep, batch],
      )
      return Number(row?.n ?? 0)
    },
    deploymentsAfter: async (afterSeq, before, batch) => {
      const rows = await c.rows(
        `SELECT seq, id, created_at < $2 AS old, (finished_at IS NOT NULL AND finished_at < $2) AS ended
           FROM deployments WHERE seq > $1 ORDER BY seq LIMIT $3`,
        [afterSeq, before, batch],
      )
      return rows.map((row) => ({
        seq: Number(row.seq),
        id: String(row.id),
        old: row.old === true,
        ended: row.ended === true,
      }))
    },
    deleteLogs: async (ids) => {
      const row = await c.row(
        'WITH gone AS (DELETE FROM deployment_logs WHERE deployment_id = ANY($1::text[]) RETURNING 1) SELECT count(*)::int AS n FROM gone',
        [ids],
      )
      return Number(row?.n ?? 0)
    },
  }
}
