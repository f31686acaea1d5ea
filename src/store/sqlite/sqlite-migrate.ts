/** Applies the numbered SQL files in migrations/ that the database has not seen yet. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import type { SqliteConnection } from './sqlite-connection.ts'

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations')

export function listMigrations(
  dir = MIGRATIONS_DIR,
): { version: number; name: string; sql: string }[] {
  return readdirSync(dir)
    .filter((file) => /^\d{4}-.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file,
      sql: readFileSync(join(dir, file), 'utf8'),
    }))
}

export function migrateSqlite(connection: SqliteConnection): void {
  connection.db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  )
  // BEGIN IMMEDIATE takes the write lock first, so two processes opening one file cannot
  // both apply the same migration.
  connection.transaction(() => {
    const applied = new Set(
      connection.all('SELECT version FROM schema_migrations').map((row) => Number(row.version)),
    )
    for (const migration of listMigrations()) {
      if (applied.has(migration.version)) {
        continue
      }
      connection.db.exec(migration.sql)
      connection.run(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($version, $name, $at)',
        { version: migration.version, name: migration.name, at: new Date().toISOString() },
      )
    }
  })
}
