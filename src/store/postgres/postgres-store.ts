/**
 * The shared store: one PostgreSQL database behind any number of Deckhand instances, each with
 * its own pool. Every method is one transaction. This class holds the pool and its lifecycle;
 * each seam of Store is its own part, one file each (postgres-calls, -queue, -catalogue, -logs,
 * -tokens.ts), sharing the connection.
 */
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
  DeploymentHold,
  DeploymentState,
  DeploymentVote,
  LogLine,
  Page,
  PageRequest,
  PendingState,
  Service,
  ServiceFreeze,
  Stack,
  Trigger,
  TriggerOptions,
} from '../../model/index.ts'
import type { WatchCheck } from '../../model/watch-check.ts'
import type { VoteInput, VoteMove, VoteResult } from '../approvals-store.ts'
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
import * as approvals from './postgres-approvals.ts'
import { PostgresCalls } from './postgres-calls.ts'
import { PostgresCatalogue } from './postgres-catalogue.ts'
import { PostgresConnection } from './postgres-connection.ts'
import * as holds from './postgres-holds.ts'
import { PostgresLogs, subscribe } from './postgres-logs.ts'
import { migratePostgres } from './postgres-migrate.ts'
import { postgresPruneSteps } from './postgres-prune.ts'
import { PostgresQueue } from './postgres-queue.ts'
import { PostgresTokens } from './postgres-tokens.ts'
import * as watch from './postgres-watch.ts'

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
  #calls: PostgresCalls
  #queue: PostgresQueue
  #catalogue: PostgresCatalogue
  #logs: PostgresLogs
  #tokens: PostgresTokens
  // Unsubscribe functions of the live LISTEN connections, ended with the store.
  #listeners = new Set<() => Promise<void>>()

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.#c = new PostgresConnection(url, { poolSize: options.poolSize })
    this.#pruner = new StorePruner(postgresPruneSteps(this.#c))
    this.#calls = new PostgresCalls(this.#c)
    this.#queue = new PostgresQueue(this.#c)
    this.#catalogue = new PostgresCatalogue(this.#c)
    this.#logs = new PostgresLogs(this.#c)
    this.#tokens = new PostgresTokens(this.#c)
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
    return subscribe(this.#c.url, this.#listeners, channel, onMessage, onError)
  }

  prune(options: PruneOptions): Promise<PruneResult> {
    return this.#pruner.prune(options)
  }

  // CallStore: postgres-calls.ts

  acceptCall(
    call: CallInput,
    intents: DeploymentIntent[],
    options?: AcceptOptions,
  ): Promise<AcceptResult> {
    return this.#calls.acceptCall(call, intents, options)
  }

  recordCall(call: RecordedCall, deploymentIds?: string[]): Promise<Call> {
    return this.#calls.recordCall(call, deploymentIds)
  }

  findCallByDelivery(
    triggerId: string,
    deliveryId: string,
    since: string,
  ): Promise<Call | undefined> {
    return this.#calls.findCallByDelivery(triggerId, deliveryId, since)
  }

  listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>> {
    return this.#calls.listCalls(filter, page)
  }

  // QueueStore: postgres-queue.ts

  getDeployment(id: string): Promise<Deployment | undefined> {
    return this.#queue.getDeployment(id)
  }

  listDeployments(filter: DeploymentFilter, page: PageRequest): Promise<Page<Deployment>> {
    return this.#queue.listDeployments(filter, page)
  }

  countDeployments(state: DeploymentState): Promise<number> {
    return this.#queue.countDeployments(state)
  }

  lastSucceededBefore(service: string, beforeId: string | null): Promise<Deployment | undefined> {
    return this.#queue.lastSucceededBefore(service, beforeId)
  }

  claimNext(owner: string, leaseMs: number): Promise<Deployment | undefined> {
    return this.#queue.claimNext(owner, leaseMs)
  }

  renewLease(id: string, owner: string, leaseMs: number): Promise<LeaseState> {
    return this.#queue.renewLease(id, owner, leaseMs)
  }

  finishDeployment(id: string, owner: string, outcome: DeploymentOutcome): Promise<boolean> {
    return this.#queue.finishDeployment(id, owner, outcome)
  }

  cancelDeployment(id: string): Promise<Deployment | undefined> {
    return this.#queue.cancelDeployment(id)
  }

  castVote(
    vote: VoteInput,
    decide: (deployment: Deployment, votes: readonly DeploymentVote[]) => VoteMove | undefined,
  ): Promise<VoteResult> {
    return approvals.castVote(this.#c, vote, decide)
  }

  async listVotes(deploymentId: string): Promise<DeploymentVote[]> {
    return approvals.listVotes(this.#c, deploymentId)
  }

  moveDeployment(
    id: string,
    from: readonly PendingState[],
    to: PendingState | 'canceled',
    error?: string,
  ): Promise<Deployment | undefined> {
    return this.#queue.moveDeployment(id, from, to, error)
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
    return this.#queue.failAbandoned(reason, scope)
  }

  // CatalogueStore: postgres-catalogue.ts

  listServices(page: PageRequest): Promise<Page<Service>> {
    return this.#catalogue.listServices(page)
  }

  getService(name: string): Promise<Service | undefined> {
    return this.#catalogue.getService(name)
  }

  createService(input: ServiceInput): Promise<Service> {
    return this.#catalogue.createService(input)
  }

  replaceService(input: ServiceInput): Promise<Service | undefined> {
    return this.#catalogue.replaceService(input)
  }

  deleteService(name: string): Promise<boolean> {
    return this.#catalogue.deleteService(name)
  }

  setServiceState(
    name: string,
    state: { replicas?: number | null; tag?: string | null },
  ): Promise<void> {
    return this.#catalogue.setServiceState(name, state)
  }

  listStacks(page: PageRequest): Promise<Page<Stack>> {
    return this.#catalogue.listStacks(page)
  }

  getStack(name: string): Promise<Stack | undefined> {
    return this.#catalogue.getStack(name)
  }

  createStack(input: StackInput): Promise<Stack> {
    return this.#catalogue.createStack(input)
  }

  replaceStack(input: StackInput): Promise<Stack | undefined> {
    return this.#catalogue.replaceStack(input)
  }

  deleteStack(name: string): Promise<boolean> {
    return this.#catalogue.deleteStack(name)
  }

  createTrigger(input: TriggerInput): Promise<Trigger> {
    return this.#catalogue.createTrigger(input)
  }

  getTrigger(id: string): Promise<Trigger | undefined> {
    return this.#catalogue.getTrigger(id)
  }

  findTriggerByTokenHash(tokenHash: string): Promise<Trigger | undefined> {
    return this.#catalogue.findTriggerByTokenHash(tokenHash)
  }

  listTriggers(
    owner: { service?: string; stack?: string },
    page: PageRequest,
    options?: { includeRevoked?: boolean },
  ): Promise<Page<Trigger>> {
    return this.#catalogue.listTriggers(owner, page, options)
  }

  updateTrigger(id: string, options: TriggerOptions): Promise<Trigger | undefined> {
    return this.#catalogue.updateTrigger(id, options)
  }

  revokeTrigger(id: string): Promise<boolean> {
    return this.#catalogue.revokeTrigger(id)
  }

  rotateTrigger(id: string, tokenHash: string): Promise<Trigger | undefined> {
    return this.#catalogue.rotateTrigger(id, tokenHash)
  }

  // LogStore: postgres-logs.ts

  /**
   * Appends lines after the deployment's last seq, gapless even when appends race, and
   * NOTIFYs `LOG_CHANNEL` with the deployment id when they commit.
   */
  appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void> {
    return this.#logs.appendLog(deploymentId, lines)
  }

  readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    return this.#logs.readLog(deploymentId, afterSeq, limit)
  }

  // TokenStore: postgres-tokens.ts

  countAdminTokens(): Promise<number> {
    return this.#tokens.countAdminTokens()
  }

  createAdminToken(input: { id: string; name: string; tokenHash: string }): Promise<AdminToken> {
    return this.#tokens.createAdminToken(input)
  }

  listAdminTokens(page: PageRequest): Promise<Page<AdminToken>> {
    return this.#tokens.listAdminTokens(page)
  }

  deleteAdminToken(id: string): Promise<boolean> {
    return this.#tokens.deleteAdminToken(id)
  }

  useAdminToken(tokenHash: string): Promise<AdminToken | undefined> {
    return this.#tokens.useAdminToken(tokenHash)
  }

  saveWatchCheck(check: WatchCheck): Promise<void> {
    return watch.saveWatchCheck(this.#c, check)
  }

  getWatchCheck(service: string): Promise<WatchCheck | undefined> {
    return watch.getWatchCheck(this.#c, service)
  }

  takeWatchLease(owner: string, leaseMs: number): Promise<boolean> {
    return watch.takeWatchLease(this.#c, owner, leaseMs)
  }

  releaseWatchLease(owner: string): Promise<void> {
    return watch.releaseWatchLease(this.#c, owner)
  }
}
