/**
 * The shared store: one PostgreSQL database behind any number of Deckhand instances, each with
 * its own pool. Every method is one transaction; the queue's statements live in postgres-queue.ts.
 */
import { conflict } from '../../errors.ts'
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
import { firstOfDelivery, insertCall, PostgresAcceptBatcher } from './postgres-accept.ts'
import { type Filter, PostgresConnection, selectPage } from './postgres-connection.ts'
import * as logs from './postgres-logs.ts'
import { migratePostgres } from './postgres-migrate.ts'
import { postgresPruneSteps } from './postgres-prune.ts'
import * as queue from './postgres-queue.ts'
import * as holds from './postgres-holds.ts'
import * as tokens from './postgres-tokens.ts'

export { LOG_CHANNEL } from '../store.ts'

export interface PostgresStoreOptions {
  /** Connections this instance keeps open at most; default 10. */
  poolSize?: number
}

/**
 * Every timestamp is written by the database with clock_timestamp() (the statement's time, not
 * the transaction's start, which now() would give): instances whose clocks drift still write
 * one timeline, and a lease is compared with the clock that set it. Rows come back through
 * RETURNING, so what a method answers is exactly what was stored.
 */
export class PostgresStore implements Store {
  /** Several instances may write at once: claims and joins are safe across them. */
  readonly capabilities = { multiWriter: true }
  #c: PostgresConnection
  #pruner: StorePruner
  #batcher: PostgresAcceptBatcher
  // Unsubscribe functions of the live LISTEN connections, ended with the store.
  #listeners = new Set<() => Promise<void>>()

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.#c = new PostgresConnection(url, { poolSize: options.poolSize })
    this.#batcher = new PostgresAcceptBatcher(this.#c)
    this.#pruner = new StorePruner(postgresPruneSteps(this.#c))
  }

  /** Safe from several instances at once: a session advisory lock lets one apply each file. */
  async migrate(): Promise<void> {
    await migratePostgres(this.#c.pool)
  }

  async ping(): Promise<void> {
    await this.#c.row('SELECT 1 AS ok')
  }

  /** Ends LISTEN connections, then the pool, which waits for transactions in flight. */
  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((end) => end()))
    await this.#c.close()
  }

  /**
   * Calls `onMessage` with each NOTIFY payload on `channel` (for `LOG_CHANNEL`, a deployment
   * id) on a connection of its own, outside the pool. Resolves once LISTEN is in effect, with
   * a function that stops listening. If that connection is lost the subscription ends and
   * `onError` is told; the caller subscribes again and re-reads what it may have missed.
   */
  subscribe(
    channel: string,
    onMessage: (payload: string) => void,
    onError?: (error: Error) => void,
  ): Promise<() => Promise<void>> {
    return logs.subscribe(this.#c.url, this.#listeners, channel, onMessage, onError)
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
    return tokens.createTrigger(this.#c, input)
  }

  getTrigger(id: string): Promise<Trigger | undefined> {
    return tokens.getTrigger(this.#c, id)
  }

  findTriggerByTokenHash(tokenHash: string): Promise<Trigger | undefined> {
    return tokens.findTriggerByTokenHash(this.#c, tokenHash)
  }

  listTriggers(
    owner: { service?: string; stack?: string },
    page: PageRequest,
    options: { includeRevoked?: boolean } = {},
  ): Promise<Page<Trigger>> {
    return tokens.listTriggers(this.#c, owner, page, options)
  }

  updateTrigger(id: string, options: TriggerOptions): Promise<Trigger | undefined> {
    return tokens.updateTrigger(this.#c, id, options)
  }

  revokeTrigger(id: string): Promise<boolean> {
    return tokens.revokeTrigger(this.#c, id)
  }

  rotateTrigger(id: string, tokenHash: string): Promise<Trigger | undefined> {
    return tokens.rotateTrigger(this.#c, id, tokenHash)
  }

  // Grouped with the calls that arrive while the previous group commits: see postgres-accept.ts.
  acceptCall(
    call: CallInput,
    intents: DeploymentIntent[],
    options?: AcceptOptions,
  ): Promise<AcceptResult> {
    return this.#batcher.accept(call, intents, options)
  }

  async recordCall(call: RecordedCall, deploymentIds: string[] = []): Promise<Call> {
    return this.#c.transaction((q) => insertCall(q, call, deploymentIds))
  }

  async findCallByDelivery(
    triggerId: string,
    deliveryId: string,
    since: string,
  ): Promise<Call | undefined> {
    return firstOfDelivery(this.#c, triggerId, deliveryId, since)
  }

  async listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>> {
    const where: Filter[] = []
    if (filter.trigger !== undefined) {
      where.push(['trigger_id = ?', filter.trigger])
    }
    if (filter.outcome !== undefined) {
      where.push(['outcome = ?', filter.outcome])
    }
    return toPage(await selectPage(this.#c, 'calls', where, page), page.limit, toCall)
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = await this.#c.row('SELECT * FROM deployments WHERE id = $1', [id])
    return row ? toDeployment(row) : undefined
  }

  async listDeployments(filter: DeploymentFilter, page: PageRequest): Promise<Page<Deployment>> {
    const where: Filter[] = []
    if (filter.service !== undefined) {
      where.push(['service = ?', filter.service])
    }
    if (filter.state !== undefined) {
      where.push(['state = ?', filter.state])
    }
    return toPage(await selectPage(this.#c, 'deployments', where, page), page.limit, toDeployment)
  }

  async countDeployments(state: DeploymentState): Promise<number> {
    const row = await this.#c.row('SELECT COUNT(*)::int AS n FROM deployments WHERE state = $1', [
      state,
    ])
    return Number(row?.n ?? 0)
  }

  async lastSucceededBefore(
    service: string,
    beforeId: string | null,
  ): Promise<Deployment | undefined> {
    const row = await this.#c.row(
      `SELECT * FROM deployments WHERE service = $1 AND state = 'succeeded' AND action IN ('redeploy', 'rollback')
         AND seq < COALESCE((SELECT seq FROM deployments WHERE id = $2), 9223372036854775807)
       ORDER BY seq DESC LIMIT 1`,
      [service, beforeId],
    )
    return row ? toDeployment(row) : undefined
  }

  claimNext(owner: string, leaseMs: number): Promise<Deployment | undefined> {
    return queue.claimNext(this.#c, owner, leaseMs)
  }

  renewLease(id: string, owner: string, leaseMs: number): Promise<LeaseState> {
    return queue.renewLease(this.#c, id, owner, leaseMs)
  }

  finishDeployment(id: string, owner: string, outcome: DeploymentOutcome): Promise<boolean> {
    return queue.finishDeployment(this.#c, id, owner, outcome)
  }

  cancelDeployment(id: string): Promise<Deployment | undefined> {
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
    return holds.setFreeze(this.#c, name, freeze)
  }

  listHeld(limit: number): Promise<Deployment[]> {
    return holds.listHeld(this.#c, limit)
  }

  holdDeployment(id: string, hold: DeploymentHold): Promise<Deployment | undefined> {
    return holds.holdDeployment(this.#c, id, hold)
  }

  releaseDeployment(id: string, from: readonly PendingState[]): Promise<Deployment | undefined> {
    return holds.releaseDeployment(this.#c, id, from)
  }

  failAbandoned(
    reason: string,
    scope: 'expired' | 'all' | { owner: string },
  ): Promise<Deployment[]> {
    return queue.failAbandoned(this.#c, reason, scope)
  }

  /**
   * Appends lines after the deployment's last seq, gapless even when appends race, and
   * NOTIFYs `LOG_CHANNEL` with the deployment id when they commit.
   */
  appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void> {
    return logs.appendLog(this.#c, deploymentId, lines)
  }

  readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    return logs.readLog(this.#c, deploymentId, afterSeq, limit)
  }

  prune(options: PruneOptions): Promise<PruneResult> {
    return this.#pruner.prune(options)
  }

  countAdminTokens(): Promise<number> {
    return tokens.countAdminTokens(this.#c)
  }

  createAdminToken(input: { id: string; name: string; tokenHash: string }): Promise<AdminToken> {
    return tokens.createAdminToken(this.#c, input)
  }

  listAdminTokens(page: PageRequest): Promise<Page<AdminToken>> {
    return tokens.listAdminTokens(this.#c, page)
  }

  deleteAdminToken(id: string): Promise<boolean> {
    return tokens.deleteAdminToken(this.#c, id)
  }

  useAdminToken(tokenHash: string): Promise<AdminToken | undefined> {
    return tokens.useAdminToken(this.#c, tokenHash)
  }
}
