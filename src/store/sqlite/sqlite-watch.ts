/** Registry watches on SQLite: the last check of each service and the (one-writer) lease. */
import type { WatchCheck } from '../../model/watch-check.ts'
import { toWatchCheck, WATCH_LEASE } from '../watch-store.ts'
import type { SqliteConnection } from './sqlite-connection.ts'

export async function saveWatchCheck(c: SqliteConnection, check: WatchCheck): Promise<void> {
  // INSERT … SELECT: a check that ends after its service was deleted keeps nothing.
  await c.write(() =>
    c.run(
      `INSERT INTO watch_checks
         (service, checked_at, next_at, outcome, answer, tag, digest, etag)
       SELECT $service, $checkedAt, $nextAt, $outcome, $answer, $tag, $digest, $etag
       WHERE EXISTS (SELECT 1 FROM services WHERE name = $service)
       ON CONFLICT (service) DO UPDATE SET
         checked_at = excluded.checked_at, next_at = excluded.next_at,
         outcome = excluded.outcome, answer = excluded.answer, tag = excluded.tag,
         digest = excluded.digest, etag = excluded.etag`,
      { ...check },
    ),
  )
}

export function getWatchCheck(c: SqliteConnection, service: string): WatchCheck | undefined {
  const row = c.read(() =>
    c.get('SELECT * FROM watch_checks WHERE service = $service', { service }),
  )
  return row ? toWatchCheck(row) : undefined
}

export async function takeWatchLease(
  c: SqliteConnection,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const now = Date.now()
  return c.write(() => {
    c.run(
      `INSERT INTO watch_lease (name, owner, expires_at) VALUES ($name, $owner, $expires)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE watch_lease.owner = excluded.owner OR watch_lease.expires_at <= $now`,
      {
        name: WATCH_LEASE,
        owner,
        expires: new Date(now + leaseMs).toISOString(),
        now: new Date(now).toISOString(),
      },
    )
    const row = c.get('SELECT owner FROM watch_lease WHERE name = $name', { name: WATCH_LEASE })
    return row?.owner === owner
  })
}

export async function releaseWatchLease(c: SqliteConnection, owner: string): Promise<void> {
  await c.write(() =>
    c.run('DELETE FROM watch_lease WHERE name = $name AND owner = $owner', {
      name: WATCH_LEASE,
      owner,
    }),
  )
}
