/** Keyset pages of any table on SQLite, newest first, as every list of the API reads them. */
import type { PageRequest } from '../../model/index.ts'
import { decodeCursor, type Row } from '../row-mapping.ts'
import type { SqliteConnection } from './sqlite-connection.ts'
import type { SqliteParams } from './sqlite-database.ts'

/**
 * One page of `table`, newest first (one row more than the page, so the caller knows whether
 * another follows): rows whose columns equal the defined values of `equal`, and that meet
 * `where` (fixed SQL conditions).
 */
export function selectPage(
  connection: SqliteConnection,
  table: string,
  equal: Record<string, string | undefined>,
  page: PageRequest,
  where: string[] = [],
): Row[] {
  const params: SqliteParams = {}
  const clauses = [...where]
  for (const [column, value] of Object.entries(equal)) {
    if (value !== undefined) {
      clauses.push(`${column} = $${column}`)
      params[column] = value
    }
  }
  const before = decodeCursor(page.cursor)
  if (before !== undefined) {
    clauses.push('seq < $before')
    params.before = before
  }
  const filter = clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''
  return connection.read(() =>
    connection.all(`SELECT * FROM ${table} ${filter} ORDER BY seq DESC LIMIT $limit`, {
      ...params,
      limit: page.limit + 1,
    }),
  )
}
