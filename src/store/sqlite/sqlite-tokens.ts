/** Admin tokens on SQLite: found by their SHA-256, with a last use kept to the minute. */
import type { AdminToken, Page, PageRequest } from '../../model/index.ts'
import { toAdminToken, toPage } from '../row-mapping.ts'
import type { TokenStore } from '../token-store.ts'
import type { SqliteConnection } from './sqlite-connection.ts'
import { selectPage } from './sqlite-page.ts'

/** A token's last use is written at most once a minute, so API reads stay reads. */
const LAST_USED_GRANULARITY_MS = 60_000

export function countAdminTokens(connection: SqliteConnection): number {
  return Number(
    connection.read(() => connection.get('SELECT COUNT(*) AS n FROM admin_tokens'))?.n ?? 0,
  )
}

export async function createAdminToken(
  connection: SqliteConnection,
  input: { id: string; name: string; tokenHash: string },
): Promise<AdminToken> {
  const at = new Date().toISOString()
  await connection.write(() =>
    connection.run(
      'INSERT INTO admin_tokens (id, name, token_hash, created_at) VALUES ($id, $name, $hash, $at)',
      {
        id: input.id,
        name: input.name,
        hash: input.tokenHash,
        at,
      },
    ),
  )
  return { id: input.id, name: input.name, createdAt: at, lastUsedAt: null }
}

export function listAdminTokens(connection: SqliteConnection, page: PageRequest): Page<AdminToken> {
  return toPage(selectPage(connection, 'admin_tokens', {}, page), page.limit, toAdminToken)
}

export function deleteAdminToken(connection: SqliteConnection, id: string): Promise<boolean> {
  return connection.write(
    () => connection.run('DELETE FROM admin_tokens WHERE id = $id', { id }) === 1,
  )
}

export async function useAdminToken(
  connection: SqliteConnection,
  tokenHash: string,
): Promise<AdminToken | undefined> {
  const row = connection.read(() =>
    connection.get('SELECT * FROM admin_tokens WHERE token_hash = $hash', { hash: tokenHash }),
  )
  if (!row) {
    return undefined
  }
  const at = new Date()
  if (
    row.last_used_at === null ||
    at.getTime() - Date.parse(String(row.last_used_at)) > LAST_USED_GRANULARITY_MS
  ) {
    try {
      await connection.write(() =>
        connection.run('UPDATE admin_tokens SET last_used_at = $at WHERE id = $id', {
          id: String(row.id),
          at: at.toISOString(),
        }),
      )
      row.last_used_at = at.toISOString()
    } catch {
      // A usage timestamp must never deny access: with a full or read-only disk the token still works.
    }
  }
  return toAdminToken(row)
}

/** The functions above behind the TokenStore seam. */
export class SqliteTokens implements TokenStore {
  #c: SqliteConnection

  constructor(connection: SqliteConnection) {
    this.#c = connection
  }

  async countAdminTokens(): Promise<number> {
    return countAdminTokens(this.#c)
  }

  async createAdminToken(input: {
    id: string
    name: string
    tokenHash: string
  }): Promise<AdminToken> {
    return createAdminToken(this.#c, input)
  }

  async listAdminTokens(page: PageRequest): Promise<Page<AdminToken>> {
    return listAdminTokens(this.#c, page)
  }

  async deleteAdminToken(id: string): Promise<boolean> {
    return deleteAdminToken(this.#c, id)
  }

  async useAdminToken(tokenHash: string): Promise<AdminToken | undefined> {
    return useAdminToken(this.#c, tokenHash)
  }
}
