/**
 * The embedded store: one SQLite file in WAL mode. All statements run synchronously on the
 * event loop, which is what makes SQLite a single writer; calls are grouped into one commit.
 * This class holds the file and its lifecycle; each seam of Store is its own part, one file
 * each (sqlite-calls, -queue, -catalogue, -logs, -tokens.ts), sharing the connection and the
 * read cache.
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
import * as approvals from './sqlite-approvals.ts'
import { SqliteReadCache } from './sqlite-cache.ts'
import { SqliteCalls } from './sqlite-calls.ts'
import { SqliteCatalogue } from './sqlite-catalogue.ts'
import { SqliteConnection } from './sqlite-connection.ts'
import { openSqliteDatabase } from './sqlite-database.ts'
import * as holds from './sqlite-holds.ts'
import { SqliteLogs } from './sqlite-logs.ts'
import { migrateSqlite } from './sqlite-migrate.ts'
import { sqlitePruneSteps } from './sqlite-prune.ts'
import { SqliteQueue } from './sqlite-queue.ts'
import { SqliteTokens } from './sqlite-tokens.ts'
import * as watch from './sqlite-watch.ts'
import { WalSync } from './wal-sync.ts'

export class SqliteStore implements Store {
  readonly capabilities = { multiWriter: false }
  #pruner: StorePruner
  #c: SqliteConnection
  #wal: WalSync
  /** Shared by the catalogue, which fills and clears it, the calls and the queue. */
  #cache: SqliteReadCache
  #calls: SqliteCalls
  #queue: SqliteQueue
  #catalogue: SqliteCatalogue
  #logs: SqliteLogs
  #tokens: SqliteTokens

  constructor(path: string) {
    this.#wal = new WalSync(path)
    this.#c = new SqliteConnection(openSqliteDatabase(path), this.#wal)
    this.#cache = new SqliteReadCache(this.#c)
    this.#pruner = new StorePruner(sqlitePruneSteps(this.#c))
    this.#catalogue = new SqliteCatalogue(this.#c, this.#cache)
    this.#calls = new SqliteCalls(this.#c, (name) => this.#catalogue.serviceOf(name))
    this.#queue = new SqliteQueue(this.#c, this.#cache)
    this.#logs = new SqliteLogs(this.#c)
    this.#tokens = new SqliteTokens(this.#c)
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

  prune(options: PruneOptions): Promise<PruneResult> {
    return this.#pruner.prune(options)
  }

  // CallStore: sqlite-calls.ts

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

  // QueueStore: sqlite-queue.ts

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
    // A service row changes: the cache goes at commit and again at durability (SqliteCatalogue).
    const written = this.#c.write(() => holds.setFreezeRow(this.#c, name, freeze))
    this.#cache.clear()
    return written.finally(() => this.#cache.clear())
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

  failAbandoned(
    reason: string,
    scope: 'expired' | 'all' | { owner: string },
  ): Promise<Deployment[]> {
    return this.#queue.failAbandoned(reason, scope)
  }

  // CatalogueStore: sqlite-catalogue.ts

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

  // LogStore: sqlite-logs.ts

  appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void> {
    return this.#logs.appendLog(deploymentId, lines)
  }

  readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    return this.#logs.readLog(deploymentId, afterSeq, limit)
  }

  // TokenStore: sqlite-tokens.ts

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

  async getWatchCheck(service: string): Promise<WatchCheck | undefined> {
    return watch.getWatchCheck(this.#c, service)
  }

  takeWatchLease(owner: string, leaseMs: number): Promise<boolean> {
    return watch.takeWatchLease(this.#c, owner, leaseMs)
  }

  releaseWatchLease(owner: string): Promise<void> {
    return watch.releaseWatchLease(this.#c, owner)
  }
}
