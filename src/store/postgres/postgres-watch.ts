/**
 * Registry watches on PostgreSQL: the last check of each service, and the lease row that lets
 * one of the instances sharing the database check, judged by the database's clock so that
 * instances whose clocks differ still agree on when it expired.
 */
import type { WatchCheck } from '../../model/watch-check.ts'
import { toWatchCheck, WATCH_LEASE } from '../watch-store.ts'
import type { PostgresConnection } from './postgres-connection.ts'

export async function saveWatchCheck(c: PostgresConnection, check: WatchCheck): Promise<void> {
  // INSERT … SELECT: a check that ends after its service was deleted keeps nothing.
  await c.rows(
    `INSERT INTO watch_checks
       (service, checked_at, next_at, outcome, answer, tag, digest, etag)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8
     WHERE EXISTS (SELECT 1 FROM services WHERE name = $1)
     ON CONFLICT (service) DO UPDATE SET
       checked_at = excluded.checked_at, next_at = excluded.next_at,
       outcome = excluded.outcome, answer = excluded.answer, tag = excluded.tag,
       digest = excluded.digest, etag = excluded.etag`,
    [
      check.service,
      check.checkedAt,
      check.nextAt,
      check.outcome,
      check.answer,
      check.tag,
      check.digest,
      check.etag,
    ],
  )
}

export async function getWatchCheck(
  c: PostgresConnection,
  service: string,
): Promise<WatchCheck | undefined> {
  const row = await c.row('SELECT * FROM watch_checks WHERE service = $1', [service])
  return row ? toWatchCheck(row) : undefined
}

export async function takeWatchLease(
  c: PostgresConnection,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const row = await c.row(
    `INSERT INTO watch_lease (name, owner, expires_at)
     VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3 / 1000.0))
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
     WHERE watch_lease.owner = excluded.owner OR watch_lease.expires_at <= clock_timestamp()
     RETURNING owner`,
    [WATCH_LEASE, owner, leaseMs],
  )
  return row?.owner === owner
}

export async function releaseWatchLease(c: PostgresConnection, owner: string): Promise<void> {
  await c.rows('DELETE FROM watch_lease WHERE name = $1 AND owner = $2', [WATCH_LEASE, owner])
}
