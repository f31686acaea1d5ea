/**
 * Deployment logs on PostgreSQL, and LISTEN/NOTIFY so an instance can follow a log that a
 * deployment running on another instance writes.
 */
import pg from 'pg'

import type { LogLine } from '../../model/index.ts'
import type { LogStore } from '../log-store.ts'
import { toLogLine } from '../row-mapping.ts'
import { LOG_CHANNEL } from '../store.ts'
import { mapError, type PostgresConnection } from './postgres-connection.ts'

// `appendLog` notifies LOG_CHANNEL with the deployment id as payload when its lines commit.
// A follower on another instance re-reads the log from its last seq when woken: the
// notification carries no lines, so one lost while a listener reconnects costs nothing, and
// NOTIFY's 8000-byte payload limit never applies to log text.

/**
 * A transaction-scoped advisory lock on the deployment id makes concurrent appends (two
 * instances, or the worker and a replica tail) take turns, so seqs stay gapless and in order;
 * it works before the deployment row exists, which `SELECT … FOR UPDATE` on that row would not.
 * NOTIFY is transactional: listeners hear of the lines only once they can read them.
 */
export async function appendLog(
  c: PostgresConnection,
  deploymentId: string,
  lines: Omit<LogLine, 'seq'>[],
): Promise<void> {
  if (lines.length === 0) {
    return
  }
  await c.transaction(async (q) => {
    await q.rows(
      "SELECT pg_advisory_xact_lock(hashtextextended('deckhand:log:' || $1, 0)), pg_notify($2, $1)",
      [deploymentId, LOG_CHANNEL],
    )
    // One INSERT for the whole batch of lines: unnest zips the three arrays row by row.
    await q.rows(
      `INSERT INTO deployment_logs (deployment_id, seq, at, stream, line)
       SELECT $1, last.seq + line.n, line.at, line.stream, line.line
         FROM (SELECT COALESCE(MAX(seq), 0) AS seq FROM deployment_logs WHERE deployment_id = $1) last,
              unnest($2::timestamptz[], $3::text[], $4::text[]) WITH ORDINALITY AS line(at, stream, line, n)`,
      [deploymentId, lines.map((l) => l.at), lines.map((l) => l.stream), lines.map((l) => l.line)],
    )
  })
}

export async function readLog(
  c: PostgresConnection,
  deploymentId: string,
  afterSeq: number,
  limit: number,
): Promise<LogLine[]> {
  const rows = await c.rows(
    'SELECT * FROM deployment_logs WHERE deployment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
    [deploymentId, afterSeq, limit],
  )
  return rows.map(toLogLine)
}

/**
 * LISTENs on `channel` over a connection of its own: a pooled one would be handed to other
 * queries and could not wait for notifications. The returned function ends it; so does the
 * loss of the connection, which `onError` hears about.
 */
export async function subscribe(
  url: string,
  live: Set<() => Promise<void>>,
  channel: string,
  onMessage: (payload: string) => void,
  onError?: (error: Error) => void,
): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: url, application_name: 'deckhand-listen' })
  let ended = false
  const end = async (): Promise<void> => {
    if (!ended) {
      ended = true
      live.delete(end)
      await client.end().catch(() => {})
    }
  }
  client.on('notification', (message) => {
    if (message.channel === channel) {
      onMessage(message.payload ?? '')
    }
  })
  client.on('error', (error) => {
    void end()
    onError?.(error)
  })
  try {
    await client.connect()
    await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
  } catch (error) {
    await end()
    throw mapError(error)
  }
  live.add(end)
  return end
}

/** appendLog and readLog above behind the LogStore seam (subscribe is the store's own). */
export class PostgresLogs implements LogStore {
  #c: PostgresConnection

  constructor(connection: PostgresConnection) {
    this.#c = connection
  }

  /**
   * Appends lines after the deployment's last seq, gapless even when appends race, and
   * NOTIFYs `LOG_CHANNEL` with the deployment id when they commit.
   */
  appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void> {
    return appendLog(this.#c, deploymentId, lines)
  }

  readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    return readLog(this.#c, deploymentId, afterSeq, limit)
  }
}
