/**
 * The subset of a synchronous SQLite binding the store uses, so nothing else imports the
 * runtime's module; `node:sqlite`'s DatabaseSync satisfies it.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

export type SqliteValue = null | number | bigint | string | Uint8Array
/** Named (`$name`) parameters, or values for `?` placeholders in order: cheaper on hot statements. */
export type SqliteParams = Record<string, SqliteValue> | SqliteValue[]

export interface SqliteStatement {
  run(params?: SqliteParams): { changes: number | bigint; lastInsertRowid: number | bigint }
  get(params?: SqliteParams): Record<string, unknown> | undefined
  all(params?: SqliteParams): Record<string, unknown>[]
}

export interface SqliteDatabase {
  exec(sql: string): void
  prepare(sql: string): SqliteStatement
  close(): void
}

/**
 * Opens the database file in WAL mode: WAL keeps readers off the writer's back. Commits are
 * made durable by SqliteConnection flushing the WAL itself (wal-sync.ts), so SQLite's own
 * fsync on COMMIT (synchronous=FULL) is off: the accept path then flushes off the event loop.
 */
export function openSqliteDatabase(path: string): SqliteDatabase {
  // The database holds trigger secrets and the calls' bodies: only Deckhand's user reads it.
  // SQLite gives the WAL and shared-memory files the database file's mode, so that one is made
  // 0600 before SQLite opens it (and made so again for a database an older version created).
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  closeSync(openSync(path, 'a', 0o600))
  chmodSync(path, 0o600)
  const db = new DatabaseSync(path, { timeout: 5000 })
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  const wrap = (sql: string): SqliteStatement => {
    const statement = db.prepare(sql)
    return {
      run: (params) =>
        Array.isArray(params) ? statement.run(...params) : statement.run(params ?? {}),
      get: (params) =>
        (Array.isArray(params) ? statement.get(...params) : statement.get(params ?? {})) as
          Record<string, unknown> | undefined,
      all: (params) =>
        (Array.isArray(params) ? statement.all(...params) : statement.all(params ?? {})) as Record<
          string,
          unknown
        >[],
    }
  }
  return { exec: (sql) => db.exec(sql), prepare: wrap, close: () => db.close() }
}
