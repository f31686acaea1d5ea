/**
 * Triggers and admin tokens on PostgreSQL: the rows found by a token's SHA-256. A revoked
 * trigger loses its hash at once, so it is found exactly as an unknown token is: not at all.
 */
import { triggerNameTaken } from '../../errors.ts'
import type { AdminToken, Page, PageRequest, Trigger, TriggerOptions } from '../../model/index.ts'
import { toAdminToken, toPage, toTrigger } from '../row-mapping.ts'
import type { TriggerInput } from '../store.ts'
import {
  type Filter,
  isUniqueViolation,
  type PostgresConnection,
  selectPage,
} from './postgres-connection.ts'

/** The unique indexes of 0002 that keep trigger names unique among an owner's live triggers. */
function isTriggerNameTaken(error: unknown): boolean {
  return (
    isUniqueViolation(error, 'triggers_live_service_name') ||
    isUniqueViolation(error, 'triggers_live_stack_name')
  )
}

export async function createTrigger(c: PostgresConnection, input: TriggerInput): Promise<Trigger> {
  const { id, service, stack, tokenHash, ...options } = input
  try {
    const row = await c.row(
      `INSERT INTO triggers (id, service, stack, token_hash, options, created_at)
       VALUES ($1, $2, $3, $4, $5, clock_timestamp()) RETURNING *`,
      [id, service, stack, tokenHash, JSON.stringify(options)],
    )
    return toTrigger(row!)
  } catch (error) {
    throw isTriggerNameTaken(error) ? triggerNameTaken({ service, stack }, options.name) : error
  }
}

export async function getTrigger(c: PostgresConnection, id: string): Promise<Trigger | undefined> {
  const row = await c.row('SELECT * FROM triggers WHERE id = $1', [id])
  return row ? toTrigger(row) : undefined
}

export async function findTriggerByTokenHash(
  c: PostgresConnection,
  tokenHash: string,
): Promise<Trigger | undefined> {
  const row = await c.row('SELECT * FROM triggers WHERE token_hash = $1', [tokenHash])
  return row ? toTrigger(row) : undefined
}

export async function listTriggers(
  c: PostgresConnection,
  owner: { service?: string; stack?: string },
  page: PageRequest,
  options: { includeRevoked?: boolean } = {},
): Promise<Page<Trigger>> {
  const where: Filter[] = options.includeRevoked ? [] : ['revoked_at IS NULL']
  if (owner.service !== undefined) {
    where.push(['service = ?', owner.service])
  }
  if (owner.stack !== undefined) {
    where.push(['stack = ?', owner.stack])
  }
  return toPage(await selectPage(c, 'triggers', where, page), page.limit, toTrigger)
}

export async function updateTrigger(
  c: PostgresConnection,
  id: string,
  options: TriggerOptions,
): Promise<Trigger | undefined> {
  try {
    const row = await c.row(
      'UPDATE triggers SET options = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING *',
      [id, JSON.stringify(options)],
    )
    return row ? toTrigger(row) : undefined
  } catch (error) {
    if (!isTriggerNameTaken(error)) {
      throw error
    }
    const trigger = await getTrigger(c, id)
    throw triggerNameTaken({ service: trigger?.service, stack: trigger?.stack }, options.name)
  }
}

// Only a live trigger is revoked, so a second revoke answers false, as the interface says.
export async function revokeTrigger(c: PostgresConnection, id: string): Promise<boolean> {
  const rows = await c.rows(
    'UPDATE triggers SET token_hash = NULL, revoked_at = clock_timestamp() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
    [id],
  )
  return rows.length === 1
}

// The new hash replaces the old in one UPDATE: the old URL stops working at the commit.
export async function rotateTrigger(
  c: PostgresConnection,
  id: string,
  tokenHash: string,
): Promise<Trigger | undefined> {
  const row = await c.row(
    'UPDATE triggers SET token_hash = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING *',
    [id, tokenHash],
  )
  return row ? toTrigger(row) : undefined
}

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
