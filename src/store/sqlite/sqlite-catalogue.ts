/**
 * The catalogue on SQLite: services, stacks and their triggers. The read cache (sqlite-cache.ts)
 * serves the hot path's look-ups; every method here that changes a trigger or a service clears
 * it through #changing.
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
import type { SqliteReadCache } from './sqlite-cache.ts'
import type { SqliteConnection } from './sqlite-connection.ts'
import { selectPage } from './sqlite-page.ts'
import * as queue from './sqlite-queue.ts'
import { getServiceRow } from './sqlite-services.ts'

const now = (): string => new Date().toISOString()

export class SqliteCatalogue implements CatalogueStore {
  #c: SqliteConnection
  /** Cleared by every method below that changes a trigger or a service (sqlite-cache.ts). */
  #cache: SqliteReadCache

  constructor(connection: SqliteConnection, cache: SqliteReadCache) {
    this.#c = connection
    this.#cache = cache
  }

  /** A service by name as of the running transaction, through the cache (for the accept). */
  serviceOf(name: string): Service | undefined {
    return this.#service(name)
  }

  #service(name: string): Service | undefined {
    return this.#cache.service(name, () => getServiceRow(this.#c, name))
  }

  /** Runs a write that changes triggers or services, and forgets what the cache held. */
  async #changing<T>(work: () => T): Promise<T> {
    // write() commits before it returns its promise; the flush follows. The commit is already
    // visible to readers, so the cache goes now, not after the flush (a reader in between saw
    // the deployment finished and the service's old tag), and again once it is durable.
    const written = this.#c.write(work)
    this.#cache.clear()
    try {
      return await written
    } finally {
      this.#cache.clear()
    }
  }

  async listServices(page: PageRequest): Promise<Page<Service>> {
    return toPage(selectPage(this.#c, 'services', {}, page), page.limit, toService)
  }

  async getService(name: string): Promise<Service | undefined> {
    return this.#c.read(() => this.#service(name))
  }

  async createService(input: ServiceInput): Promise<Service> {
    return this.#c.write(() => {
      if (getServiceRow(this.#c, input.name)) {
        throw conflict(`service ${input.name} already exists; choose another name or PATCH it`)
      }
      const at = now()
      this.#c.run(
        `INSERT INTO services (name, driver, spec, deployed_spec, tag, replicas, created_at, updated_at)
         VALUES ($name, $driver, $spec, $deployed, $tag, $replicas, $at, $at)`,
        {
          name: input.name,
          driver: input.driver,
          spec: serviceSpec(input),
          deployed: deployedSpec(input),
          tag: input.tag ?? null,
          replicas: input.replicas ?? null,
          at,
        },
      )
      return getServiceRow(this.#c, input.name)!
    })
  }

  async replaceService(input: ServiceInput): Promise<Service | undefined> {
    return this.#changing(() => {
      const changed = this.#c.run(
        'UPDATE services SET driver = $driver, spec = $spec, updated_at = $at WHERE name = $name',
        { name: input.name, driver: input.driver, spec: serviceSpec(input), at: now() },
      )
      if (changed === 0) {
        return undefined
      }
      queue.setServiceStateRow(this.#c, input.name, { replicas: input.replicas, tag: input.tag })
      return getServiceRow(this.#c, input.name)
    })
  }

  async deleteService(name: string): Promise<boolean> {
    return this.#changing(() => {
      const changed = this.#c.run('DELETE FROM services WHERE name = $name', { name })
      this.#c.run(
        'UPDATE triggers SET token_hash = NULL, revoked_at = $at WHERE service = $name AND revoked_at IS NULL',
        { name, at: now() },
      )
      this.#c.run(
        `UPDATE deployments SET state = 'canceled', finished_at = $at, error = 'service deleted'
          WHERE service = $name AND state IN ${PENDING_SQL}`,
        { name, at: now() },
      )
      return changed === 1
    })
  }

  async setServiceState(
    name: string,
    state: { replicas?: number | null; tag?: string | null },
  ): Promise<void> {
    await this.#changing(() => queue.setServiceStateRow(this.#c, name, state))
  }

  async listStacks(page: PageRequest): Promise<Page<Stack>> {
    return toPage(selectPage(this.#c, 'stacks', {}, page), page.limit, toStack)
  }

  async getStack(name: string): Promise<Stack | undefined> {
    const row = this.#c.read(() => this.#c.get('SELECT * FROM stacks WHERE name = $name', { name }))
    return row ? toStack(row) : undefined
  }

  async createStack(input: StackInput): Promise<Stack> {
    return this.#c.write(() => {
      if (this.#c.get('SELECT 1 FROM stacks WHERE name = $name', { name: input.name })) {
        throw conflict(`stack ${input.name} already exists; choose another name or PATCH it`)
      }
      const at = now()
      this.#c.run(
        'INSERT INTO stacks (name, services, created_at, updated_at) VALUES ($name, $services, $at, $at)',
        {
          name: input.name,
          services: JSON.stringify(input.services),
          at,
        },
      )
      return { ...input, createdAt: at, updatedAt: at }
    })
  }

  async replaceStack(input: StackInput): Promise<Stack | undefined> {
    const changed = await this.#c.write(() =>
      this.#c.run('UPDATE stacks SET services = $services, updated_at = $at WHERE name = $name', {
        name: input.name,
        services: JSON.stringify(input.services),
        at: now(),
      }),
    )
    return changed ? this.getStack(input.name) : undefined
  }

  async deleteStack(name: string): Promise<boolean> {
    return this.#changing(() => {
      this.#c.run(
        'UPDATE triggers SET token_hash = NULL, revoked_at = $at WHERE stack = $name AND revoked_at IS NULL',
        { name, at: now() },
      )
      return this.#c.run('DELETE FROM stacks WHERE name = $name', { name }) === 1
    })
  }

  async createTrigger(input: TriggerInput): Promise<Trigger> {
    const { id, service, stack, tokenHash, ...options } = input
    const at = now()
    try {
      await this.#c.write(() =>
        this.#c.run(
          `INSERT INTO triggers (id, service, stack, token_hash, options, created_at)
           VALUES ($id, $service, $stack, $hash, $options, $at)`,
          { id, service, stack, hash: tokenHash, options: JSON.stringify(options), at },
        ),
      )
    } catch (error) {
      throw isTriggerNameTaken(error) ? triggerNameTaken({ service, stack }, options.name) : error
    }
    return { ...options, id, service, stack, createdAt: at, revokedAt: null }
  }

  async getTrigger(id: string): Promise<Trigger | undefined> {
    const row = this.#c.read(() => this.#c.get('SELECT * FROM triggers WHERE id = $id', { id }))
    return row ? toTrigger(row) : undefined
  }

  async findTriggerByTokenHash(tokenHash: string): Promise<Trigger | undefined> {
    return this.#c.read(() =>
      this.#cache.trigger(tokenHash, () => {
        const row = this.#c.get('SELECT * FROM triggers WHERE token_hash = $hash', {
          hash: tokenHash,
        })
        return row ? toTrigger(row) : undefined
      }),
    )
  }

  async listTriggers(
    owner: { service?: string; stack?: string },
    page: PageRequest,
    options: { includeRevoked?: boolean } = {},
  ): Promise<Page<Trigger>> {
    const live = options.includeRevoked ? [] : ['revoked_at IS NULL']
    const rows = selectPage(
      this.#c,
      'triggers',
      { service: owner.service, stack: owner.stack },
      page,
      live,
    )
    return toPage(rows, page.limit, toTrigger)
  }

  async updateTrigger(id: string, options: TriggerOptions): Promise<Trigger | undefined> {
    let changed: number
    try {
      changed = await this.#changing(() =>
        this.#c.run(
          'UPDATE triggers SET options = $options WHERE id = $id AND revoked_at IS NULL',
          {
            id,
            options: JSON.stringify(options),
          },
        ),
      )
    } catch (error) {
      if (!isTriggerNameTaken(error)) {
        throw error
      }
      const trigger = await this.getTrigger(id)
      throw triggerNameTaken({ service: trigger?.service, stack: trigger?.stack }, options.name)
    }
    return changed ? this.getTrigger(id) : undefined
  }

  async revokeTrigger(id: string): Promise<boolean> {
    return this.#changing(
      () =>
        this.#c.run(
          'UPDATE triggers SET token_hash = NULL, revoked_at = $at WHERE id = $id AND revoked_at IS NULL',
          {
            id,
            at: now(),
          },
        ) === 1,
    )
  }

  async rotateTrigger(id: string, tokenHash: string): Promise<Trigger | undefined> {
    const changed = await this.#changing(() =>
      this.#c.run('UPDATE triggers SET token_hash = $hash WHERE id = $id AND revoked_at IS NULL', {
        id,
        hash: tokenHash,
      }),
    )
    return changed ? this.getTrigger(id) : undefined
  }
}

/** The unique indexes of 0002 that keep trigger names unique among an owner's live triggers. */
function isTriggerNameTaken(error: unknown): boolean {
  return (
    error instanceof Error &&
    /UNIQUE constraint failed: index 'triggers_live_(service|stack)_name'/.test(error.message)
  )
}
