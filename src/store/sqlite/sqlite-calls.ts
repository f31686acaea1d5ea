/**
 * Calls on SQLite: accepting them in groups (the transaction itself is in sqlite-accept.ts),
 * recording the ones that queued nothing, and reading them back.
 */
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  RecordedCall,
} from '../../model/call-accept.ts'
import type { Call, Page, PageRequest, Service } from '../../model/index.ts'
import type { CallStore } from '../call-store.ts'
import { toCall, toPage } from '../row-mapping.ts'
import type { CallFilter } from '../store.ts'
import { firstOfDelivery, insertCall, SqliteAcceptBatcher } from './sqlite-accept.ts'
import type { SqliteConnection } from './sqlite-connection.ts'
import { selectPage } from './sqlite-page.ts'

export class SqliteCalls implements CallStore {
  #c: SqliteConnection
  #batcher: SqliteAcceptBatcher

  /** `serviceOf` reads a service as of the accept's transaction (the catalogue's cache). */
  constructor(connection: SqliteConnection, serviceOf: (name: string) => Service | undefined) {
    this.#c = connection
    this.#batcher = new SqliteAcceptBatcher(this.#c, serviceOf)
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
}
