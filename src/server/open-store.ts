/** Opens the store DECKHAND_DATABASE_URL names: a SQLite file, or PostgreSQL. */
import { resolve } from 'node:path'

import type { Store } from '../store/store.ts'
import type { ServerSettings } from './settings.ts'

export async function openStore(settings: Pick<ServerSettings, 'databaseUrl'>): Promise<Store> {
  const url = settings.databaseUrl
  if (url.startsWith('sqlite:')) {
    const { SqliteStore } = await import('../store/sqlite/sqlite-store.ts')
    return new SqliteStore(resolve(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')))
  }
  const { PostgresStore } = await import('../store/postgres/postgres-store.ts')
  return new PostgresStore(url)
}
