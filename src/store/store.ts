/**
 * The store interface, in domain verbs. SQLite and PostgreSQL implement it; nothing outside
 * store/ knows which one runs. Every method is one transaction.
 */
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  RecordedCall,
} from '../model/call-accept.ts'
import type {
  AdminToken,
  Call,
  CallOutcome,
  DeployedSpec,
  Deployment,
  DeploymentState,
  LogLine,
  Page,
  PageRequest,
  PendingState,
  Service,
  Stack,
  TriedChange,
  Trigger,
  TriggerOptions,
} from '../model/index.ts'
import type { HoldsStore } from './holds-store.ts'
import type { PruneOptions, PruneResult } from './store-prune.ts'

export type { PruneOptions, PruneResult } from './store-prune.ts'

/**
 * The channel a multi-writer store announces committed log lines and ended deployments on, with
 * the deployment id as payload (PostgreSQL's NOTIFY in appendLog and where a deployment ends).
 */
export const LOG_CHANNEL = 'deckhand_log'

export interface StoreCapabilities {
  /** True when several Deckhand instances may write at once (PostgreSQL); SQLite has one writer. */
  multiWriter: boolean
}

/** A service as created or replaced: everything but the timestamps and observed state. */
export type ServiceInput = Omit<
  Service,
  'createdAt' | 'updatedAt' | 'tag' | 'replicas' | 'deployed'
> & {
  tag?: string | null
  replicas?: number | null
}

export type StackInput = Omit<Stack, 'createdAt' | 'updatedAt'>

export interface TriggerInput extends TriggerOptions {
  id: string
  service: string | null
  stack: string | null
  tokenHash: string
}

export type DeploymentOutcome =
  | {
      state: 'succeeded'
      replicas?: number | null
      tag?: string | null
      /** What ran, recorded on the deployment. */
      image?: string | null
      digest?: string | null
      /** What a redeploy or rollback put on the runtime: becomes the service's `deployed`. */
      deployed?: DeployedSpec
    }
  | {
      state: 'failed' | 'canceled'
      error: string
      /**
       * What a redeploy or rollback tried that differs from what runs: recorded on the
       * deployment, and the service's target and image are put back to its `deployed` when the
       * row still shows the tried ones.
       */
      tried?: TriedChange
    }

export interface LeaseState {
  held: boolean
  cancelRequested: boolean
}

export interface DeploymentFilter {
  service?: string | undefined
  state?: DeploymentState | undefined
}

export interface CallFilter {
  trigger?: string | undefined
  outcome?: CallOutcome | undefined
}

export interface Store extends HoldsStore {
  readonly capabilities: StoreCapabilities

  /** Applies pending migrations; safe to call from several instances at once. */
  migrate(): Promise<void>
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>
  close(): Promise<void>
  /**
   * Optional: hears what other instances sharing the database announce on `channel` (for
   * LOG_CHANNEL, the id of a deployment whose log grew or that ended). Resolves once listening, with the
   * function that stops; a lost connection ends it and calls `onError`, and the caller
   * subscribes again. Absent on a single-writer store (SQLite), where every change is made by
   * this process and its own events say so.
   */
  subscribe?(
    channel: string,
    onMessage: (payload: string) => void,
    onError?: (error: Error) => void,
  ): Promise<() => Promise<void>>

  listServices(page: PageRequest): Promise<Page<Service>>
  getService(name: string): Promise<Service | undefined>
  /** Creates the service; throws a DH_ERR_CONFLICT DeckhandError when the name is taken. */
  createService(input: ServiceInput): Promise<Service>
  /** Replaces the stored definition of an existing service; undefined when there is none. */
  replaceService(input: ServiceInput): Promise<Service | undefined>
  /** Deletes the service with its triggers; false when there was none. */
  deleteService(name: string): Promise<boolean>
  /** Records what a finished deployment left running. */
  setServiceState(
    name: string,
    state: { replicas?: number | null; tag?: string | null },
  ): Promise<void>

  listStacks(page: PageRequest): Promise<Page<Stack>>
  getStack(name: string): Promise<Stack | undefined>
  createStack(input: StackInput): Promise<Stack>
  replaceStack(input: StackInput): Promise<Stack | undefined>
  deleteStack(name: string): Promise<boolean>

  createTrigger(input: TriggerInput): Promise<Trigger>
  getTrigger(id: string): Promise<Trigger | undefined>
  /** The live trigger whose token hashes to `tokenHash`; revoked ones are never found. */
  findTriggerByTokenHash(tokenHash: string): Promise<Trigger | undefined>
  /** Live triggers, newest first; with `includeRevoked`, revoked ones too (their `revokedAt` set). */
  listTriggers(
    owner: { service?: string; stack?: string },
    page: PageRequest,
    options?: { includeRevoked?: boolean },
  ): Promise<Page<Trigger>>
  /** Replaces a trigger's options (not its token); undefined when unknown or revoked. */
  updateTrigger(id: string, options: TriggerOptions): Promise<Trigger | undefined>
  /** Forgets the token hash at once; false when unknown or already revoked. */
  revokeTrigger(id: string): Promise<boolean>
  rotateTrigger(id: string, tokenHash: string): Promise<Trigger | undefined>

  /**
   * Records a call and queues or joins a deployment for each intent, in one transaction:
   * lock, read the facts, planAccept (calls/plan-accept.ts), write what it planned.
   * Resolves only after the commit is durable: this is what a 202 promises.
   */
  acceptCall(
    call: CallInput,
    intents: DeploymentIntent[],
    options?: AcceptOptions,
  ): Promise<AcceptResult>
  /** Records a call that queued nothing (ignored, rejected, duplicate). */
  recordCall(call: RecordedCall, deploymentIds?: string[]): Promise<Call>
  /** The first call of this trigger with this delivery id since `since` (ISO time). */
  findCallByDelivery(
    triggerId: string,
    deliveryId: string,
    since: string,
  ): Promise<Call | undefined>
  listCalls(filter: CallFilter, page: PageRequest): Promise<Page<Call>>

  getDeployment(id: string): Promise<Deployment | undefined>
  listDeployments(filter: DeploymentFilter, page: PageRequest): Promise<Page<Deployment>>
  /** How many deployments are in a state now (queue depth, running count for metrics). */
  countDeployments(state: DeploymentState): Promise<number>
  /** The newest succeeded redeploy or rollback of the service before the given deployment. */
  lastSucceededBefore(service: string, beforeId: string | null): Promise<Deployment | undefined>

  /**
   * Claims the oldest queued deployment whose service has none running, marks it running
   * under `owner` with a lease, and returns it; undefined when nothing can start.
   */
  claimNext(owner: string, leaseMs: number): Promise<Deployment | undefined>
  /** Extends the lease; says whether this owner still holds it and whether cancel was asked. */
  renewLease(id: string, owner: string, leaseMs: number): Promise<LeaseState>
  /**
   * Ends a running deployment; touches only a row this owner holds. False otherwise. A success
   * sets the service's replicas, tag and `deployed`; a failure with `tried` records it and puts
   * the service's target and image back to what runs (DeploymentOutcome).
   */
  finishDeployment(id: string, owner: string, outcome: DeploymentOutcome): Promise<boolean>
  /**
   * Cancels a queued deployment at once, or flags a running one for its worker to stop.
   * Returns the deployment after the change; undefined when unknown.
   */
  cancelDeployment(id: string): Promise<Deployment | undefined>
  /**
   * Moves a deployment that has not started from one of `from` to `to` (approved, held, released
   * or canceled by a release control); `error` is recorded with a cancel. Returns the deployment
   * after the move; undefined when it was not in one of `from` (someone moved it first).
   */
  moveDeployment(
    id: string,
    from: readonly PendingState[],
    to: PendingState | 'canceled',
    error?: string,
  ): Promise<Deployment | undefined>
  /**
   * Marks running deployments as failed with `reason` and returns them: those whose lease
   * expired, every one (a single-writer store at start), or those of one owner.
   */
  failAbandoned(reason: string, scope: 'expired' | 'all' | { owner: string }): Promise<Deployment[]>

  appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void>
  /** Log lines after `afterSeq`, oldest first, at most `limit`. */
  readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]>

  /**
   * Deletes calls received before `options.before` or beyond the newest `options.keepCalls`,
   * and the log lines of deployments that ended before `options.before` (deployments stay).
   * Works in small batches, so it may run while calls arrive.
   */
  prune(options: PruneOptions): Promise<PruneResult>

  countAdminTokens(): Promise<number>
  createAdminToken(input: { id: string; name: string; tokenHash: string }): Promise<AdminToken>
  listAdminTokens(page: PageRequest): Promise<Page<AdminToken>>
  deleteAdminToken(id: string): Promise<boolean>
  /** The admin token whose hash matches; undefined when unknown. */
  useAdminToken(tokenHash: string): Promise<AdminToken | undefined>
}
