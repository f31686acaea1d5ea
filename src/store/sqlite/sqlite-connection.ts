/**
 * One SQLite connection with a statement cache and durable transactions that turn the
 * database's failures (disk full, read-only, I/O) into a 503-mapped store error.
 */
import { storeUnavailable } from '../../errors.ts'
import type { SqliteDatabase, SqliteParams, SqliteStatement } from './sqlite-database.ts'
import type { WalSync } from './wal-sync.ts'

export class SqliteConnection {
  readonly db: SqliteDatabase
  #statements = new Map<string, SqliteStatement>()
  #wal: WalSync

  constructor(db: SqliteDatabase, wal: WalSync) {
    this.db = db
    this.#wal = wal
  }

  statement(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql)
    if (!statement) {
      statement = this.db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  run(sql: string, params?: SqliteParams): number {
    return Number(this.statement(sql).run(params).changes)
  }

  get(sql: string, params?: SqliteParams): Record<string, unknown> | undefined {
    return this.statement(sql).get(params)
  }

  all(sql: string, params?: SqliteParams): Record<string, unknown>[] {
    return this.statement(sql).all(params)
  }

  /**
   * Runs `work` in one IMMEDIATE transaction, on disk when this returns; a failure to write
   * becomes a store error. With `syncLater`, the commit is made but not yet flushed: the caller
   * answers only after `synced()` settles (the accept path, which meanwhile commits more).
   */
  transaction<T>(work: () => T, options?: { syncLater: boolean }): T {
    try {
      this.db.exec('BEGIN IMMEDIATE')
    } catch (error) {
      throw storeUnavailable(error)
    }
    let result: T
    try {
      result = work()
      this.db.exec('COMMIT')
    } catch (error) {
      this.#rollback()
      throw isStorageFailure(error) ? storeUnavailable(error) : error
    }
    if (!options?.syncLater) {
      try {
        this.#wal.syncNow()
      } catch (error) {
        throw storeUnavailable(error)
      }
    }
    return result
  }

  /**
   * Runs `work` in one IMMEDIATE transaction and resolves once it is on disk. The flush runs on
   * libuv's thread pool and covers every commit made meanwhile, so a worker's claims, log lines
   * and finishes never hold the event loop for an fsync (a 1 MiB deployment input held it for
   * hundreds of milliseconds) and share flushes with the calls being accepted.
   */
  async write<T>(work: () => T): Promise<T> {
    const result = this.transaction(work, { syncLater: true })
    await this.synced()
    return result
  }

  /** Settles once every commit made so far is on disk; rejects with a store error if it cannot be. */
  async synced(): Promise<void> {
    try {
      await this.#wal.sync()
    } catch (error) {
      throw storeUnavailable(error)
    }
  }

  /** Reads outside a transaction, mapping storage failures like writes do. */
  read<T>(work: () => T): T {
    try {
      return work()
    } catch (error) {
      throw isStorageFailure(error) ? storeUnavailable(error) : error
    }
  }

  #rollback(): void {
    try {
      this.db.exec('ROLLBACK')
    } catch {
      // SQLite already rolled back on its own after an I/O error; nothing is left to undo.
    }
  }
}

const STORAGE_FAILURES =
  /SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|CORRUPT|NOTADB)|disk I\/O|readonly|database or disk is full|unable to open/i

/** True for errors that say the database cannot be written, not that a statement was wrong. */
export function isStorageFailure(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false
  }
  const detail = (error as { errstr?: string }).errstr ?? ''
  return STORAGE_FAILURES.test(`${error.message} ${detail}`)
}
