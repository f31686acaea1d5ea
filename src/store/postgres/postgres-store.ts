/**
 * The shared store: one PostgreSQL database behind any number of Deckhand instances, each with
 * its own pool. Every method is one transaction; the queue's statements live in postgres-queue.ts.
 */
import pg from 'pg'
import { conflict } from '../../errors.ts'
import type {
  AdminToken,
  Call,
  Deployment,
  LogLine,
  Page,
  PageRequest,
  Service,
  Stack,
  Trigger,
  TriggerOptions,
} from '../../model/index.ts'
import {
  decodeCursor,
  serviceSpec,
  toAdminToken,
  toCall,
  toDeployment,
  toLogLine,
  toPage,
  toService,
  toStack,
  toTrigger,
  type Row,
} from '../row-mapping.ts'
import type {
  AcceptResult,
  CallFilter,
  CallInput,
  DeploymentFilter,
  DeploymentIntent,
  DeploymentOutcome,
  LeaseState,
  RecordedCall,
  ServiceInput,
  StackInput,
  Store,
  TriggerInput,
} from '../store.ts'
import { PostgresAcceptBatcher, insertCall } from './postgres-accept.ts'
import { PostgresConnection, mapError } from './postgres-connection.ts'
import { migratePostgres } from './postgres-migrate.ts'
import * as queue from './postgres-queue.ts'

/**
 * The channel `appendLog` notifies, with the deployment id as payload, when its lines commit.
 * A follower on another instance re-reads the log from its last seq when woken: the
 * notification carries no lines, so one lost while a listener reconnects costs nothing.
 */
export const LOG_CHANNEL = 'deckhand_log'

type Filter = string | [clause: string, value: unknown]

export interface PostgresStoreOptions {
  /** Connections this instance keeps open at most; default 10. */
  poolSize?: number
}

export class PostgresStore implements Store {
  readonly capabilities = { multiWriter: true }
  #c: PostgresConnection
  #batcher: PostgresAcceptBatcher
  #listeners = new Set<pg.Client>()

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.#c = new PostgresConnection(url, { poolSize: options.poolSize })
    this.#batcher = new PostgresAcceptBatcher(this.#c)
  }

  async migrate(): Promise<void> {
    await migratePostgres(this.#c.pool)
  }

  async ping(): Promise<void> {
    await this.#c.row('SELECT 1 AS ok')
  }

  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((client) => client.end().catch(() => {})))
    await this.#c.close()
  }

  /**
   * Calls `onMessage` with each NOTIFY payload on `channel` (for `LOG_CHANNEL`, a deployment
   * id) on a connection of its own, outside the pool. Resolves once LISTEN is in effect, with
   * a function that stops listening. If that connection is lost the subscription ends and
   * `onError` is told; the caller subscribes again and re-reads what it may have missed.
   */
  async subscribe(
    channel: string,
    onMessage: (payload: string) => void,
    onError?: (error: Error) => void,
  ): Promise<() => Promise<void>> {
    const client = new pg.Client({ connectionString: this.#c.url, application_name: 'deckhand-listen' })
    let ended = false
    const end = async (): Promise<void> => {
      if (!ended) {
        ended = true
        this.#listeners.delete(client)
        await client.end().catch(() => {})
      }
    }
    client.on('notification', (message) => {
      if (message.channel === channel) {
        onMessage(message.payload ?? '')
      }
    })
    client.on('error', (error) => {
      void end()
      onError?.(error)
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
    } catch (error) {
      await end()
      throw mapError(error)
    }
    this.#listeners.add(client)
    return end
  }

  /** One page, newest first; each `?` in a clause takes the value paired with it. */
  async #page(table: string, where: Filter[], page: PageRequest): Promise<Row[]> {
    const params: unknown[] = []
    const clauses = where.map((clause) => {
      if (typeof clause === 'string') {
        return clause
      }
      params.push(clause[1])
      return clause[0].replace('?', `$${params.length}`)
    })
    const before = decodeCursor(page.cursor)
    if (before !== undefined) {
      params.push(before)
      clauses.push(`seq < $${params.length}`)
    }
    params.push(page.limit + 1)
    const filter = clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''
    return this.#c.rows(`SELECT * FROM ${table} ${filter} ORDER BY seq DESC LIMIT $${params.length}`, params)
  }

  async listServices(page: PageRequest): Promise<Page<Service>> {
    return toPage(await this.#page('services', [], page), page.limit, toService)
  }

  async getService(name: string): Promise<Service | undefined> {
    const row = await this.#c.row('SELECT * FROM services WHERE name = $1', [name])
    return row ? toService(row) : undefined
  }

  async createService(input: ServiceInput): Promise<Service> {
    // ON CONFLICT instead of a look-up first: two instances creating one name race safely.
    const row = await this.#c.row(
      `INSERT INTO services (name, driver, spec, tag, replicas, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, clock_timestamp(), clock_timestamp())
       ON CONFLICT (name) DO NOTHING RETURNING *`,
      [input.name, input.driver, serviceSpec(input), input.tag ?? null, input.replicas ?? null],
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

  async deleteService(name: string): Promise<boolean> {
    return this.#c.transaction(async (q) => {
      const deleted = await q.rows('DELETE FROM services WHERE name = $1 RETURNING seq', [name])
      await q.rows(
        'UPDATE triggers SET token_hash = NULL, revoked_at = clock_timestamp() WHERE service = $1 AND revoked_at IS NULL',
        [name],
      )
      await q.rows(
        `UPDATE deployments SET state = 'canceled', finished_at = clock_timestamp(), error = 'service deleted'
          WHERE service = $1 AND state = 'queued'`,
        [name],
      )
      return deleted.length === 1
    })
  }

  async setServiceState(name: string, state: { replicas?: number | null; tag?: string | null }): Promise<void> {
    await this.#c.transaction((q) => queue.setServiceStateRow(q, name, state))
  }

  async listStacks(page: PageRequest): Promise<Page<Stack>> {
    return toPage(await this.#page('stacks', [], page), page.limit, toStack)
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

  async createTrigger(input: TriggerInput): Promise<Trigger> {
    const { id, service, stack, tokenHash, ...options } = input
    const row = await this.#c.row(
      `INSERT INTO triggers (id, service, stack, token_hash, options, created_at)
       VALUES ($1, $2, $3, $4, $5, clock_timestamp()) RETURNING *`,
      [id, service, stack, tokenHash, JSON.stringify(options)],
    )
    return toTrigger(row!)
  }

  async getTrigger(id: string): Promise<Trigger | undefined> {
    const row = await this.#c.row('SELECT * FROM triggers WHERE id = $1', [id])
    return row ? toTrigger(row) : undefined
  }

  async findTriggerByTokenHash(tokenHash: string): Promise<Trigger | undefined> {
    const row = await this.#c.row('SELECT * FROM triggers WHERE token_hash = $1', [tokenHash])
    return row ? toTrigger(row) : undefined
  }

  async listTriggers(owner: { service?: string; stack?: string }, page: PageRequest): Promise<Page<Trigger>> {
    const where: Filter[] = ['revoked_at IS NULL']
    if (owner.service !== undefined) {
      where.push(['service = ?', owner.service])
    }
    if (owner.stack !== undefined) {
      where.push(['stack = ?', owner.stack])
    }
    return toPage(await this.#page('triggers', where, page), page.limit, toTrigger)
  }

  async updateTrigger(id: string, options: TriggerOptions): Promise<Trigger | undefined> {
    const row = await this.#c.row(
      'UPDATE triggers SET options = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING *',
      [id, JSON.stringify(options)],
    )
    return row ? toTrigger(row) : undefined
  }

  async revokeTrigger(id: string): Promise<boolean> {
    const rows = await this.#c.rows(
      'UPDATE triggers SET token_hash = NULL, revoked_at = clock_timestamp() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
      [id],
    )
    return rows.length === 1
  }

  async rotateTrigger(id: string, tokenHash: string): Promise<Trigger | undefined> {
    const row = await this.#c.row(
      'UPDATE triggers SET token_hash = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING *',
      [id, tokenHash],
    )
    return row ? toTrigger(row) : undefined
  }

  acceptCall(call: CallInput, intents: DeploymentIntent[]): Promise<AcceptResult> {
    return this.#batcher.accept(call, intents)
  }

  async recordCall(call: RecordedCall, deploymentIds: string[] = []): Promise<Call> {
    return this.#c.transaction((q) => insertCall(q, call, deploymentIds))
  }

  async findCallByDelivery(triggerId: string, deliveryId: string, since: string): Promise<Call | undefined> {
    const row = await this.#c.row(
      `SELECT * FROM calls WHERE trigger_id = $1 AND delivery_id = $2 AND received_at >= $3::timestamptz
         AND outcome != 'duplicate' ORDER BY seq LIMIT 1`,
      [triggerId, deliveryId, since],
    )
    return row ? toCall(row) : undefined
  }

  async listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>> {
    const where: Filter[] = []
    if (filter.trigger !== undefined) {
      where.push(['trigger_id = ?', filter.trigger])
    }
    if (filter.outcome !== undefined) {
      where.push(['outcome = ?', filter.outcome])
    }
    return toPage(await this.#page('calls', where, page), page.limit, toCall)
  }

  async lastQueuedCallAt(triggerId: string): Promise<string | undefined> {
    const row = await this.#c.row(
      "SELECT received_at FROM calls WHERE trigger_id = $1 AND outcome IN ('queued', 'coalesced') ORDER BY seq DESC LIMIT 1",
      [triggerId],
    )
    return row ? (row.received_at as Date).toISOString() : undefined
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
    return toPage(await this.#page('deployments', where, page), page.limit, toDeployment)
  }

  async lastSucceededBefore(service: string, beforeId: string | null): Promise<Deployment | undefined> {
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

  failAbandoned(reason: string, scope: 'expired' | 'all' | { owner: string }): Promise<Deployment[]> {
    return queue.failAbandoned(this.#c, reason, scope)
  }

  /**
   * Appends lines after the deployment's last seq and NOTIFYs `LOG_CHANNEL` with its id at
   * commit. A transaction-scoped advisory lock on the id makes concurrent appends take turns,
   * so seqs stay gapless and ordered; it works before the deployment row exists, which a row
   * lock would not.
   */
  async appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void> {
    if (lines.length === 0) {
      return
    }
    await this.#c.transaction(async (q) => {
      await q.rows(
        "SELECT pg_advisory_xact_lock(hashtextextended('deckhand:log:' || $1, 0)), pg_notify($2, $1)",
        [deploymentId, LOG_CHANNEL],
      )
      await q.rows(
        `INSERT INTO deployment_logs (deployment_id, seq, at, stream, line)
         SELECT $1, last.seq + line.n, line.at, line.stream, line.line
           FROM (SELECT COALESCE(MAX(seq), 0) AS seq FROM deployment_logs WHERE deployment_id = $1) last,
                unnest($2::timestamptz[], $3::text[], $4::text[]) WITH ORDINALITY AS line(at, stream, line, n)`,
        [deploymentId, lines.map((l) => l.at), lines.map((l) => l.stream), lines.map((l) => l.line)],
      )
    })
  }

  async readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    const rows = await this.#c.rows(
      'SELECT * FROM deployment_logs WHERE deployment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [deploymentId, afterSeq, limit],
    )
    return rows.map(toLogLine)
  }

  async countAdminTokens(): Promise<number> {
    return Number((await this.#c.row('SELECT COUNT(*) AS n FROM admin_tokens'))?.n ?? 0)
  }

  async createAdminToken(input: { id: string; name: string; tokenHash: string }): Promise<AdminToken> {
    const row = await this.#c.row(
      'INSERT INTO admin_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, clock_timestamp()) RETURNING *',
      [input.id, input.name, input.tokenHash],
    )
    return toAdminToken(row!)
  }

  async listAdminTokens(page: PageRequest): Promise<Page<AdminToken>> {
    return toPage(await this.#page('admin_tokens', [], page), page.limit, toAdminToken)
  }

  async deleteAdminToken(id: string): Promise<boolean> {
    return (await this.#c.rows('DELETE FROM admin_tokens WHERE id = $1 RETURNING id', [id])).length === 1
  }

  async useAdminToken(tokenHash: string): Promise<AdminToken | undefined> {
    const row = await this.#c.row('SELECT * FROM admin_tokens WHERE token_hash = $1', [tokenHash])
    return row ? toAdminToken(row) : undefined
  }
}
