/**
 * The embedded store: one SQLite file in WAL mode. All statements run synchronously on the
 * event loop, which is what makes SQLite a single writer; calls are grouped into one commit.
 */
import { conflict, triggerNameTaken } from '../../errors.ts'
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  RecordedCall,
} from '../../model/call-accept.ts'
import type {
  AdminToken,
  Call,
  Deployment,
  DeploymentState,
  LogLine,
  Page,
  PageRequest,
  DeploymentHold,
  PendingState,
  Service,
  ServiceFreeze,
  Stack,
  Trigger,
  TriggerOptions,
} from '../../model/index.ts'
import {
  deployedSpec,
  PENDING_SQL,
  serviceSpec,
  toCall,
  toDeployment,
  toPage,
  toService,
  toStack,
  toTrigger,
} from '../row-mapping.ts'
import type {
  CallFilter,
  DeploymentFilter,
  DeploymentOutcome,
  LeaseState,
  PruneOptions,
  PruneResult,
  ServiceInput,
  StackInput,
  Store,
  TriggerInput,
} from '../store.ts'
import { StorePruner } from '../store-prune.ts'
import { firstOfDelivery, insertCall, SqliteAcceptBatcher } from './sqlite-accept.ts'
import { SqliteReadCache } from './sqlite-cache.ts'
import { SqliteConnection } from './sqlite-connection.ts'
import { openSqliteDatabase } from './sqlite-database.ts'
import * as logs from './sqlite-logs.ts'
import { migrateSqlite } from './sqlite-migrate.ts'
import { selectPage } from './sqlite-page.ts'
import { sqlitePruneSteps } from './sqlite-prune.ts'
import * as queue from './sqlite-queue.ts'
import { getServiceRow } from './sqlite-services.ts'
import * as holds from './sqlite-holds.ts'
import * as tokens from './sqlite-tokens.ts'
import { WalSync } from './wal-sync.ts'

const now = (): string => new Date().toISOString()

export class SqliteStore implements Store {
  readonly capabilities = { multiWriter: false }
  #pruner: StorePruner
  #c: SqliteConnection
  #batcher: SqliteAcceptBatcher
  #wal: WalSync
  /** Cleared by every method below that changes a trigger or a service (sqlite-cache.ts). */
  #cache: SqliteReadCache

  constructor(path: string) {
    this.#wal = new WalSync(path)
    this.#c = new SqliteConnection(openSqliteDatabase(path), this.#wal)
    this.#cache = new SqliteReadCache(this.#c)
    this.#pruner = new StorePruner(sqlitePruneSteps(this.#c))
    this.#batcher = new SqliteAcceptBatcher(this.#c, (name) => this.#service(name))
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

  async migrate(): Promise<void> {
    migrateSqlite(this.#c)
  }

  async ping(): Promise<void> {
    this.#c.read(() => this.#c.get('SELECT 1 AS ok'))
  }

  async close(): Promise<void> {
    this.#cache.clear()
    try {
      this.#c.db.close()
    } finally {
      this.#wal.close()
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

  acceptCall(
    call: CallInput,
    intents: DeploymentIntent[],
    options?: AcceptOptions,
  ): Promise<AcceptResult> {
    return this.#batcher.accept(call, intents, options)
  }

  async recordCall(call: RecordedCall, deploymentIds: string[] = []): Promise<Call> {
    return this.#c.write(() => insertCall(this.#c, call, deploymentIds))
  }

  async findCallByDelivery(
    triggerId: string,
    deliveryId: string,
    since: string,
  ): Promise<Call | undefined> {
    return this.#c.read(() => firstOfDelivery(this.#c, triggerId, deliveryId, since))
  }

  async listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>> {
    return toPage(
      selectPage(this.#c, 'calls', { trigger_id: filter.trigger, outcome: filter.outcome }, page),
      page.limit,
      toCall,
    )
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = this.#c.read(() => this.#c.get('SELECT * FROM deployments WHERE id = $id', { id }))
    return row ? toDeployment(row) : undefined
  }

  async listDeployments(filter: DeploymentFilter, page: PageRequest): Promise<Page<Deployment>> {
    const rows = selectPage(
      this.#c,
      'deployments',
      { service: filter.service, state: filter.state },
      page,
    )
    return toPage(rows, page.limit, toDeployment)
  }

  async countDeployments(state: DeploymentState): Promise<number> {
    return Number(
      this.#c.read(() =>
        this.#c.get('SELECT COUNT(*) AS n FROM deployments WHERE state = $state', { state }),
      )?.n ?? 0,
    )
  }

  async lastSucceededBefore(
    service: string,
    beforeId: string | null,
  ): Promise<Deployment | undefined> {
    const row = this.#c.read(() =>
      this.#c.get(
        `SELECT * FROM deployments WHERE service = $service AND state = 'succeeded' AND action IN ('redeploy', 'rollback')
           AND seq < COALESCE((SELECT seq FROM deployments WHERE id = $before), 9223372036854775807)
         ORDER BY seq DESC LIMIT 1`,
        { service, before: beforeId },
      ),
    )
    return row ? toDeployment(row) : undefined
  }

  async claimNext(owner: string, leaseMs: number): Promise<Deployment | undefined> {
    return queue.claimNext(this.#c, owner, leaseMs)
  }

  async renewLease(id: string, owner: string, leaseMs: number): Promise<LeaseState> {
    return queue.renewLease(this.#c, id, owner, leaseMs)
  }

  async finishDeployment(id: string, owner: string, outcome: DeploymentOutcome): Promise<boolean> {
    // Committed when the call returns, flushed later: the cache goes at once (see #changing).
    const finished = queue.finishDeployment(this.#c, id, owner, outcome)
    this.#cache.clear()
    try {
      return await finished
    } finally {
      // A success sets the service's replicas, tag and deployed spec; a failure may put it back.
      this.#cache.clear()
    }
  }

  async cancelDeployment(id: string): Promise<Deployment | undefined> {
    return queue.cancelDeployment(this.#c, id)
  }

  moveDeployment(
    id: string,
    from: readonly PendingState[],
    to: PendingState | 'canceled',
    error?: string,
  ): Promise<Deployment | undefined> {
    return queue.moveDeployment(this.#c, id, from, to, error)
  }

  setFreeze(name: string, freeze: ServiceFreeze | null): Promise<Service | undefined> {
    return this.#changing(() => holds.setFreezeRow(this.#c, name, freeze))
  }

  async listHeld(limit: number): Promise<Deployment[]> {
    return holds.listHeld(this.#c, limit)
  }

  holdDeployment(id: string, hold: DeploymentHold): Promise<Deployment | undefined> {
    return holds.holdDeployment(this.#c, id, hold)
  }

  releaseDeployment(id: string, from: readonly PendingState[]): Promise<Deployment | undefined> {
    return holds.releaseDeployment(this.#c, id, from)
  }

  async failAbandoned(
    reason: string,
    scope: 'expired' | 'all' | { owner: string },
  ): Promise<Deployment[]> {
    return queue.failAbandoned(this.#c, reason, scope)
  }

  async appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void> {
    await logs.appendLog(this.#c, deploymentId, lines)
  }

  async readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    return logs.readLog(this.#c, deploymentId, afterSeq, limit)
  }

  prune(options: PruneOptions): Promise<PruneResult> {
    return this.#pruner.prune(options)
  }

  async countAdminTokens(): Promise<number> {
    return tokens.countAdminTokens(this.#c)
  }

  async createAdminToken(input: {
    id: string
    name: string
    tokenHash: string
  }): Promise<AdminToken> {
    return tokens.createAdminToken(this.#c, input)
  }

  async listAdminTokens(page: PageRequest): Promise<Page<AdminToken>> {
    return tokens.listAdminTokens(this.#c, page)
  }

  async deleteAdminToken(id: string): Promise<boolean> {
    return tokens.deleteAdminToken(this.#c, id)
  }

  async useAdminToken(tokenHash: string): Promise<AdminToken | undefined> {
    return tokens.useAdminToken(this.#c, tokenHash)
  }
}

/** The unique indexes of 0002 that keep trigger names unique among an owner's live triggers. */
function isTriggerNameTaken(error: unknown): boolean {
  return (
    error instanceof Error &&
    /UNIQUE constraint failed: index 'triggers_live_(service|stack)_name'/.test(error.message)
  )
}
