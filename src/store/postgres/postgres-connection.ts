/** A pool of PostgreSQL connections with transactions that map "cannot commit" to a 503 error. */
import pg from 'pg'

import { DeckhandError, storeUnavailable } from '../../errors.ts'
import type { PageRequest } from '../../model/index.ts'
import { decodeCursor, type Row } from '../row-mapping.ts'

/** What a statement inside a transaction (or on its own) runs against. */
export interface Queryable {
  rows(sql: string, params?: unknown[]): Promise<Row[]>
  /** The first row, or undefined. */
  row(sql: string, params?: unknown[]): Promise<Row | undefined>
}

export interface PostgresConnectionOptions {
  poolSize?: number
  /** How long to wait for a connection (new or from the pool) before answering 503. */
  connectTimeoutMs?: number
}

// Deadlocks and serialization failures are transient: the whole transaction is run again.
// Every transaction in store/postgres is written to be safe to repeat.
const RETRYABLE = new Set(['40001', '40P01'])
const ATTEMPTS = 3

export class PostgresConnection {
  readonly pool: pg.Pool
  readonly url: string

  constructor(url: string, options: PostgresConnectionOptions = {}) {
    this.url = url
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: 'deckhand',
    })
    // An idle connection that the server drops emits here; without a listener Node would crash
    // the process. The pool has already discarded it, and the next query reports any outage.
    this.pool.on('error', () => {})
  }

  /** One statement in its own transaction (autocommit). */
  async rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return (await this.pool.query(sql, params)).rows as Row[]
    } catch (error) {
      throw mapError(error)
    }
  }

  async row(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.rows(sql, params))[0]
  }

  /** Runs `work` in one READ COMMITTED transaction on one connection; commits when it resolves. */
  async transaction<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(work)
      } catch (error) {
        if (attempt < ATTEMPTS && RETRYABLE.has(codeOf(error))) {
          continue
        }
        throw mapError(error)
      }
    }
  }

  async #once<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    const q: Queryable = {
      rows: async (sql, params = []) => (await client.query(sql, params)).rows as Row[],
      row: async (sql, params = []) => (await client.query(sql, params)).rows[0] as Row | undefined,
    }
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const result = await work(q)
      await client.query('COMMIT')
      return result
    } catch (error) {
      try {
        await client.query('ROLLBACK')
      } catch (rollbackError) {
        // The connection itself is gone: tell the pool not to hand it out again.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
      }
      throw error
    } finally {
      client.release(broken)
    }
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}

/** A WHERE clause; a `?` in it takes the paired value. */
export type Filter = string | [clause: string, value: unknown]

/** One page, newest first; each `?` in a clause takes the value paired with it. */
export async function selectPage(
  c: PostgresConnection,
  table: string,
  where: Filter[],
  page: PageRequest,
): Promise<Row[]> {
  const params: unknown[] = []
  const clauses = where.map((clause) => {
    if (typeof clause === 'string') {
      return clause
    }
    params.push(clause[1])
    return clause[0].replace('?', `$${params.length}`)
  })
  const before = decodeCursor(page.cursor)
  if (before !== undefined) {
    params.push(before)
    clauses.push(`seq < $${params.length}`)
  }
  params.push(page.limit + 1)
  const filter = clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''
  const sql = `SELECT * FROM ${table} ${filter} ORDER BY seq DESC LIMIT $${params.length}`
  return c.rows(sql, params)
}

export function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

/** True when a unique index refused the row; `index` narrows it to one constraint. */
export function isUniqueViolation(error: unknown, index?: string): boolean {
  return (
    codeOf(error) === '23505' &&
    (index === undefined || (error as { constraint?: string }).constraint === index)
  )
}

// SQLSTATE classes and codes that say the database cannot take writes now, as opposed to a
// statement being wrong: connection exceptions (08), insufficient resources such as a full
// disk (53), operator intervention / shutdown (57P), system I/O errors (58) and a read-only
// server (25006, a standby after failover).
const UNAVAILABLE_CODE = /^(08|53|57P|58)|^25006$/
// Errors from the socket or the pool, before the server said anything.
const UNAVAILABLE_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
])
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Client was closed|not queryable/i

/** True for errors that say the database cannot be reached or written. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false
  }
  const code = codeOf(error)
  if (UNAVAILABLE_CODE.test(code) || UNAVAILABLE_NODE.has(code)) {
    return true
  }
  if (error instanceof AggregateError && error.errors.some(isUnavailable)) {
    return true
  }
  return UNAVAILABLE_MESSAGE.test(error.message)
}

export function mapError(error: unknown): unknown {
  if (error instanceof DeckhandError) {
    return error
  }
  return isUnavailable(error) ? storeUnavailable(error) : error
}
