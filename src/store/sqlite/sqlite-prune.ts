/** The pruning statements on SQLite (store-prune.ts walks them); times compare as ISO text. */
import type { PruneSteps } from '../store-prune.ts'
import type { SqliteConnection } from './sqlite-connection.ts'

export function sqlitePruneSteps(c: SqliteConnection): PruneSteps {
  // Each batch commits without waiting for its flush on the event loop (syncLater), then
  // waits for the flush off it, as the accept path does.
  const write = async (work: () => number): Promise<number> => {
    const changed = c.transaction(work, { syncLater: true })
    await c.synced()
    return changed
  }
  return {
    deleteCalls: (before, keep, batch) =>
      write(() =>
        // Only the oldest `batch` rows are looked at, through the primary key; the edge of the
        // count bound is found by walking `keep` index entries down from the newest.
        c.run(
          `DELETE FROM calls WHERE seq IN (
             SELECT seq FROM (SELECT seq, received_at FROM calls ORDER BY seq LIMIT $batch)
              WHERE received_at < $before
                 OR seq <= (SELECT seq FROM calls ORDER BY seq DESC LIMIT 1 OFFSET $keep))`,
          { before, keep, batch },
        ),
      ),
    deploymentsAfter: async (afterSeq, before, batch) =>
      c
        .read(() =>
          c.all(
            `SELECT seq, id, created_at < $before AS old,
                    (finished_at IS NOT NULL AND finished_at < $before) AS ended
               FROM deployments WHERE seq > $after ORDER BY seq LIMIT $batch`,
            { after: afterSeq, before, batch },
          ),
        )
        .map((row) => ({
          seq: Number(row.seq),
          id: String(row.id),
          old: Number(row.old) === 1,
          ended: Number(row.ended) === 1,
        })),
    deleteLogs: (ids) =>
      write(() =>
        ids.reduce(
          (n, id) => n + c.run('DELETE FROM deployment_logs WHERE deployment_id = $id', { id }),
          0,
        ),
      ),
  }
}
