/** Applies the numbered SQL files in migrations/ once, even when instances start together. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import type pg from 'pg'

import { mapError } from './postgres-connection.ts'

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations')

// The session advisory lock every instance takes before reading schema_migrations: the first
// applies the files, the others wait, then find nothing left to do. Advisory locks are scoped
// to one database, so instances of other databases on the same server do not wait.
// The key is 'deckhand' in ASCII, so it is recognisable in pg_locks.
export const MIGRATION_LOCK_KEY = '7234298014466387556'

export interface Migration {
  version: number
  name: string
  sql: string
}

export function listPostgresMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}-.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file,
      sql: readFileSync(join(dir, file), 'utf8'),
    }))
}

/** Applies pending migrations, each in its own transaction; returns the versions it applied. */
export async function migratePostgres(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = listPostgresMigrations(dir)
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    throw mapError(error)
  }
  let broken: Error | undefined
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
    try {
      // Created under the lock: two sessions racing on CREATE TABLE IF NOT EXISTS can still
      // collide on the catalog's unique index.
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      )
      const done = new Set(
        (await client.query('SELECT version FROM schema_migrations')).rows.map((row) =>
          Number(row.version),
        ),
      )
      const applied: number[] = []
      for (const migration of migrations) {
        if (done.has(migration.version)) {
          continue
        }
        await client.query('BEGIN')
        try {
          // No parameters: the simple protocol runs every statement of the file.
          await client.query(migration.sql)
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            migration.version,
            migration.name,
          ])
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {})
          throw new Error(
            `migration ${migration.name} failed and was rolled back; fix the database or the file, then start again`,
            { cause: error },
          )
        }
        applied.push(migration.version)
      }
      return applied
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
    }
  } catch (error) {
    broken = error instanceof Error ? error : undefined
    throw mapError(error)
  } finally {
    // A connection that failed mid-migration may still hold the session lock: discard it, so
    // closing it releases the lock, instead of returning it to the pool.
    client.release(broken)
  }
}
