/**
 * The store interface, in domain verbs, and the types its seams share. SQLite and PostgreSQL
 * implement it; nothing outside store/ knows which one runs. Every method is one transaction.
 */
import type {
  CallOutcome,
  DeployedSpec,
  DeploymentState,
  Service,
  Stack,
  TriedChange,
  TriggerOptions,
} from '../model/index.ts'
import type { ApprovalsStore } from './approvals-store.ts'
import type { CallStore } from './call-store.ts'
import type { CatalogueStore } from './catalogue-store.ts'
import type { HoldsStore } from './holds-store.ts'
import type { LogStore } from './log-store.ts'
import type { QueueStore } from './queue-store.ts'
import type { PruneOptions, PruneResult } from './store-prune.ts'
import type { TokenStore } from './token-store.ts'
import type { WatchStore } from './watch-store.ts'

export type { CallStore } from './call-store.ts'
export type { CatalogueStore } from './catalogue-store.ts'
export type { LogStore } from './log-store.ts'
export type { QueueStore } from './queue-store.ts'
export type { PruneOptions, PruneResult } from './store-prune.ts'
export type { TokenStore } from './token-store.ts'

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

/**
 * The whole store, as the server wires it: the five seams its callers use, each in its own
 * file and mirrored file for file in sqlite/ and postgres/, plus the lifecycle the server
 * alone drives. A caller takes the seams it uses (docs/architecture.md, "The store").
 */
export interface Store
  extends
    CallStore,
    QueueStore,
    CatalogueStore,
    LogStore,
    TokenStore,
    ApprovalsStore,
    WatchStore,
    HoldsStore {
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

  /**
   * Deletes calls received before `options.before` or beyond the newest `options.keepCalls`,
   * and the log lines of deployments that ended before `options.before` (deployments stay).
   * Works in small batches, so it may run while calls arrive.
   */
  prune(options: PruneOptions): Promise<PruneResult>
}
