/**
 * The catalogue on PostgreSQL: services, stacks and their triggers. A revoked trigger loses its
 * hash at once, so it is found exactly as an unknown token is: not at all.
 */
import { conflict, triggerNameTaken } from '../../errors.ts'
import type {
  Page,
  PageRequest,
  Service,
  Stack,
  Trigger,
  TriggerOptions,
} from '../../model/index.ts'
import type { CatalogueStore } from '../catalogue-store.ts'
import {
  deployedSpec,
  PENDING_SQL,
  serviceSpec,
  toPage,
  toService,
  toStack,
  toTrigger,
} from '../row-mapping.ts'
import type { ServiceInput, StackInput, TriggerInput } from '../store.ts'
import {
  type Filter,
  isUniqueViolation,
  type PostgresConnection,
  selectPage,
} from './postgres-connection.ts'
import * as queue from './postgres-queue.ts'

export class PostgresCatalogue implements CatalogueStore {
  #c: PostgresConnection

  constructor(connection: PostgresConnection) {
    this.#c = connection
  }

  async listServices(page: PageRequest): Promise<Page<Service>> {
    return toPage(await selectPage(this.#c, 'services', [], page), page.limit, toService)
  }

  async getService(name: string): Promise<Service | undefined> {
    const row = await this.#c.row('SELECT * FROM services WHERE name = $1', [name])
    return row ? toService(row) : undefined
  }

  async createService(input: ServiceInput): Promise<Service> {
    // ON CONFLICT instead of a look-up first: two instances creating one name race safely.
    const row = await this.#c.row(
      `INSERT INTO services (name, driver, spec, deployed_spec, tag, replicas, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp(), clock_timestamp())
       ON CONFLICT (name) DO NOTHING RETURNING *`,
      [
        input.name,
        input.driver,
        serviceSpec(input),
        deployedSpec(input),
        input.tag ?? null,
        input.replicas ?? null,
      ],
    )
    if (!row) {
      throw conflict(`service ${input.name} already exists; choose another name or PATCH it`)
    }
    return toService(row)
  }

  async replaceService(input: ServiceInput): Promise<Service | undefined> {
    return this.#c.transaction(async (q) => {
      const row = await q.row(
        'UPDATE services SET driver = $2, spec = $3, updated_at = clock_timestamp() WHERE name = $1 RETURNING name',
        [input.name, input.driver, serviceSpec(input)],
      )
      if (!row) {
        return undefined
      }
      await queue.setServiceStateRow(q, input.name, { replicas: input.replicas, tag: input.tag })
      const service = await q.row('SELECT * FROM services WHERE name = $1', [input.name])
      return toService(service!)
    })
  }

  // One transaction, so no call can queue for the service between the delete and the cancel:
  // an accept holds KEY SHARE on the service row, which the DELETE waits for.
  async deleteService(name: string): Promise<boolean> {
    return this.#c.transaction(async (q) => {
      const deleted = await q.rows('DELETE FROM services WHERE name = $1 RETURNING seq', [name])
      await q.rows(
        'UPDATE triggers SET token_hash = NULL, revoked_at = clock_timestamp() WHERE service = $1 AND revoked_at IS NULL',
        [name],
      )
      await q.rows(
        `UPDATE deployments SET state = 'canceled', finished_at = clock_timestamp(), error = 'service deleted'
          WHERE service = $1 AND state IN ${PENDING_SQL}`,
        [name],
      )
      return deleted.length === 1
    })
  }

  async setServiceState(
    name: string,
    state: { replicas?: number | null; tag?: string | null },
  ): Promise<void> {
    await this.#c.transaction((q) => queue.setServiceStateRow(q, name, state))
  }

  async listStacks(page: PageRequest): Promise<Page<Stack>> {
    return toPage(await selectPage(this.#c, 'stacks', [], page), page.limit, toStack)
  }

  async getStack(name: string): Promise<Stack | undefined> {
    const row = await this.#c.row('SELECT * FROM stacks WHERE name = $1', [name])
    return row ? toStack(row) : undefined
  }

  async createStack(input: StackInput): Promise<Stack> {
    const row = await this.#c.row(
      `INSERT INTO stacks (name, services, created_at, updated_at) VALUES ($1, $2, clock_timestamp(), clock_timestamp())
       ON CONFLICT (name) DO NOTHING RETURNING *`,
      [input.name, JSON.stringify(input.services)],
    )
    if (!row) {
      throw conflict(`stack ${input.name} already exists; choose another name or PATCH it`)
    }
    return toStack(row)
  }

  async replaceStack(input: StackInput): Promise<Stack | undefined> {
    const row = await this.#c.row(
      'UPDATE stacks SET services = $2, updated_at = clock_timestamp() WHERE name = $1 RETURNING *',
      [input.name, JSON.stringify(input.services)],
    )
    return row ? toStack(row) : undefined
  }

  async deleteStack(name: string): Promise<boolean> {
    return this.#c.transaction(async (q) => {
      await q.rows(
        'UPDATE triggers SET token_hash = NULL, revoked_at = clock_timestamp() WHERE stack = $1 AND revoked_at IS NULL',
        [name],
      )
      return (await q.rows('DELETE FROM stacks WHERE name = $1 RETURNING seq', [name])).length === 1
    })
  }

  createTrigger(input: TriggerInput): Promise<Trigger> {
    return createTrigger(this.#c, input)
  }

  getTrigger(id: string): Promise<Trigger | undefined> {
    return getTrigger(this.#c, id)
  }

  findTriggerByTokenHash(tokenHash: string): Promise<Trigger | undefined> {
    return findTriggerByTokenHash(this.#c, tokenHash)
  }

  listTriggers(
    owner: { service?: string; stack?: string },
    page: PageRequest,
    options: { includeRevoked?: boolean } = {},
  ): Promise<Page<Trigger>> {
    return listTriggers(this.#c, owner, page, options)
  }

  updateTrigger(id: string, options: TriggerOptions): Promise<Trigger | undefined> {
    return updateTrigger(this.#c, id, options)
  }

  revokeTrigger(id: string): Promise<boolean> {
    return revokeTrigger(this.#c, id)
  }

  rotateTrigger(id: string, tokenHash: string): Promise<Trigger | undefined> {
    return rotateTrigger(this.#c, id, tokenHash)
  }
}

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
