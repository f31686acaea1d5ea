/**
 * Calls on PostgreSQL: accepting them in groups (the transaction itself is in
 * postgres-accept.ts), recording the ones that queued nothing, and reading them back.
 */
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  RecordedCall,
} from '../../model/call-accept.ts'
import type { Call, Page, PageRequest } from '../../model/index.ts'
import type { CallStore } from '../call-store.ts'
import { toCall, toPage } from '../row-mapping.ts'
import type { CallFilter } from '../store.ts'
import { firstOfDelivery, insertCall, PostgresAcceptBatcher } from './postgres-accept.ts'
import { type Filter, type PostgresConnection, selectPage } from './postgres-connection.ts'

export class PostgresCalls implements CallStore {
  #c: PostgresConnection
  #batcher: PostgresAcceptBatcher

  constructor(connection: PostgresConnection) {
    this.#c = connection
    this.#batcher = new PostgresAcceptBatcher(this.#c)
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
}
