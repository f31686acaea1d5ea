/**
 * Admin tokens on PostgreSQL: the rows found by a token's SHA-256, with a last use kept to the
 * minute.
 */
import type { AdminToken, Page, PageRequest } from '../../model/index.ts'
import { toAdminToken, toPage } from '../row-mapping.ts'
import type { TokenStore } from '../token-store.ts'
import { type PostgresConnection, selectPage } from './postgres-connection.ts'

export async function countAdminTokens(c: PostgresConnection): Promise<number> {
  return Number((await c.row('SELECT COUNT(*) AS n FROM admin_tokens'))?.n ?? 0)
}

// Only the hash is stored; the token itself was shown once by the caller and is gone.
export async function createAdminToken(
  c: PostgresConnection,
  input: { id: string; name: string; tokenHash: string },
): Promise<AdminToken> {
  const row = await c.row(
    'INSERT INTO admin_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, clock_timestamp()) RETURNING *',
    [input.id, input.name, input.tokenHash],
  )
  return toAdminToken(row!)
}

export async function listAdminTokens(
  c: PostgresConnection,
  page: PageRequest,
): Promise<Page<AdminToken>> {
  return toPage(await selectPage(c, 'admin_tokens', [], page), page.limit, toAdminToken)
}

export async function deleteAdminToken(c: PostgresConnection, id: string): Promise<boolean> {
  return (await c.rows('DELETE FROM admin_tokens WHERE id = $1 RETURNING id', [id])).length === 1
}

export async function useAdminToken(
  c: PostgresConnection,
  tokenHash: string,
): Promise<AdminToken | undefined> {
  const row = await c.row('SELECT * FROM admin_tokens WHERE token_hash = $1', [tokenHash])
  if (!row) {
    return undefined
  }
  // Records the use at most once a minute, so API reads stay reads.
  const lastUsed = row.last_used_at instanceof Date ? row.last_used_at.getTime() : 0
  if (Date.now() - lastUsed > 60_000) {
    try {
      const updated = await c.row(
        'UPDATE admin_tokens SET last_used_at = clock_timestamp() WHERE id = $1 RETURNING last_used_at',
        [row.id],
      )
      row.last_used_at = updated?.last_used_at ?? row.last_used_at
    } catch {
      // A usage timestamp must never deny access: with the database read-only the token still works.
    }
  }
  return toAdminToken(row)
}

/** The functions above behind the TokenStore seam. */
export class PostgresTokens implements TokenStore {
  #c: PostgresConnection

  constructor(connection: PostgresConnection) {
    this.#c = connection
  }

  countAdminTokens(): Promise<number> {
    return countAdminTokens(this.#c)
  }

  createAdminToken(input: { id: string; name: string; tokenHash: string }): Promise<AdminToken> {
    return createAdminToken(this.#c, input)
  }

  listAdminTokens(page: PageRequest): Promise<Page<AdminToken>> {
    return listAdminTokens(this.#c, page)
  }

  deleteAdminToken(id: string): Promise<boolean> {
    return deleteAdminToken(this.#c, id)
  }

  useAdminToken(tokenHash: string): Promise<AdminToken | undefined> {
    return useAdminToken(this.#c, tokenHash)
  }
}
