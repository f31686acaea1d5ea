/** Service rows on SQLite, shared by the store's CRUD and the queue's bound checks. */
import type { Service } from '../../model/index.ts'
import { toService } from '../row-mapping.ts'
import type { SqliteConnection } from './sqlite-connection.ts'

export function getServiceRow(connection: SqliteConnection, name: string): Service | undefined {
  const row = connection.get('SELECT * FROM services WHERE name = $name', { name })
  return row ? toService(row) : undefined
}
