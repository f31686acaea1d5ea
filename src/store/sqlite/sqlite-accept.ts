/**
 * Accepting calls on SQLite: the calls that arrive together share one transaction (GroupCommit),
 * each with its own savepoint; each reads its facts, planAccept decides, and this writes.
 */
import { type AcceptFacts, type AcceptItem, planAccept, queueKey } from '../../calls/plan-accept.ts'
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  RecordedCall,
} from '../../model/call-accept.ts'
import type { Call, Deployment, Service } from '../../model/index.ts'
import { type GroupAnswer, GroupCommit } from '../group-commit.ts'
import { callColumns, PENDING_SQL, toCall, toDeployment } from '../row-mapping.ts'
import { dropVotes } from './sqlite-approvals.ts'
import { isStorageFailure, type SqliteConnection } from './sqlite-connection.ts'

const now = (): string => new Date().toISOString()

/** The queued deployment of a service and action as this group has left it. */
interface Queued {
  deployment: Deployment
  /** Calls of this group joined it: its row is written once, when the group ends. */
  joined: boolean
}

/** A service by name, as of this transaction (the store's cached reader). */
type ServiceOf = (name: string) => Service | undefined

/**
 * Accepts calls in groups: one commit, so one fsync, for all the calls of a burst. A group is
 * answered when its commit is on disk; the fsync runs off the event loop (wal-sync.ts), which
 * meanwhile parses the next calls and commits the next group.
 */
export class SqliteAcceptBatcher {
  readonly #group: GroupCommit<AcceptItem, AcceptResult>

  constructor(connection: SqliteConnection, serviceOf: ServiceOf) {
    this.#group = new GroupCommit(
      (items: AcceptItem[]) => commitAccepts(connection, serviceOf, items),
      {
        durable: () => connection.synced(),
      },
    )
  }

  accept(
    call: CallInput,
    intents: DeploymentIntent[],
    options?: AcceptOptions,
  ): Promise<AcceptResult> {
    return this.#group.submit({ call, intents, options })
  }
}

/**
 * Commits `items` in one transaction and answers each, in order. One bad call fails alone; a
 * storage failure (full or read-only disk) fails the whole group, and none of it was answered.
 * Calls that join a queued deployment change it in memory, and each joined deployment is
 * written once at the end of the group: a burst rewrote the row, with its input, once per call.
 */
function commitAccepts(
  connection: SqliteConnection,
  serviceOf: ServiceOf,
  items: AcceptItem[],
): GroupAnswer<AcceptResult>[] {
  const group = new AcceptGroup(connection, serviceOf)
  return connection.transaction(
    () => {
      const answers = items.map((item): GroupAnswer<AcceptResult> => {
        // Prepared once (the connection's cache), not parsed by exec() twice per call.
        connection.run('SAVEPOINT call')
        try {
          const value = group.accept(item)
          connection.run('RELEASE call')
          return { ok: true, value }
        } catch (error) {
          if (isStorageFailure(error)) {
            throw error
          }
          connection.db.exec('ROLLBACK TO call')
          connection.db.exec('RELEASE call')
          group.undoLastCall()
          return { ok: false, error }
        }
      })
      group.writeJoins()
      return answers
    },
    { syncLater: true },
  )
}

/**
 * The calls of one group: each reads its facts (as the group's earlier calls left them), is
 * planned by planAccept, and written. The single writer is the lock.
 */
class AcceptGroup {
  readonly #connection: SqliteConnection
  readonly #service: ServiceOf
  readonly #at = now()
  readonly #queued = new Map<string, Queued | null>()
  /** What the call being accepted changed in #queued, to put back if its savepoint rolls back. */
  #undo: [string, Queued | null | undefined][] = []

  constructor(connection: SqliteConnection, serviceOf: ServiceOf) {
    this.#connection = connection
    this.#service = serviceOf
  }

  undoLastCall(): void {
    for (const [key, before] of this.#undo.reverse()) {
      if (before === undefined) {
        this.#queued.delete(key)
      } else {
        this.#queued.set(key, before)
      }
    }
    this.#undo = []
  }

  accept(item: AcceptItem): AcceptResult {
    this.#undo = []
    const plan = planAccept(item, this.#facts(item))
    for (const deployment of plan.inserts) {
      insertDeployment(this.#connection, deployment)
      this.#remember(queueKey(deployment.service, deployment.action), { deployment, joined: false })
    }
    for (const deployment of plan.joins) {
      this.#remember(queueKey(deployment.service, deployment.action), { deployment, joined: true })
    }
    for (const reset of plan.voteResets) {
      dropVotes(this.#connection, reset.deploymentId, reset.reason)
    }
    writeCall(this.#connection, plan.call, plan.deploymentIds, this.#at)
    const call = asCall(plan.call, plan.deploymentIds, this.#at)
    const duplicate = plan.duplicateOf ? { duplicateOf: plan.duplicateOf } : {}
    return { call, results: plan.results, ...duplicate }
  }

  #facts({ call, intents, options }: AcceptItem): AcceptFacts {
    const services = new Map<string, Service>()
    const queued = new Map<string, Deployment>()
    for (const intent of intents) {
      const service = this.#service(intent.service)
      if (service) {
        services.set(service.name, service)
        const key = queueKey(intent.service, intent.action)
        const row = this.#queuedFor(key, intent)
        if (row) {
          queued.set(key, row.deployment)
        }
      }
    }
    const { triggerId, deliveryId } = call
    const since = options?.deliverySince
    const hasCooldown = triggerId !== null && (options?.cooldownMs ?? 0) > 0
    return {
      firstOfDelivery:
        triggerId !== null && deliveryId !== null && since !== undefined
          ? firstOfDelivery(this.#connection, triggerId, deliveryId, since)
          : undefined,
      sinceLastStepMs: hasCooldown ? this.#sinceLastStep(triggerId) : undefined,
      services,
      queued,
      at: this.#at,
    }
  }

  /** Since the trigger last queued or joined a deployment, by this group's clock (ms). */
  #sinceLastStep(triggerId: string): number | undefined {
    const last = this.#connection.get(
      "SELECT received_at FROM calls WHERE trigger_id = ? AND outcome IN ('queued', 'coalesced') ORDER BY seq DESC LIMIT 1",
      [triggerId],
    )
    // The group's earlier calls count: their rows carry the group's own time, so 0 ms.
    return last === undefined
      ? undefined
      : Date.parse(this.#at) - Date.parse(String(last.received_at))
  }

  /** One UPDATE for each deployment that calls of this group joined. */
  writeJoins(): void {
    for (const queued of this.#queued.values()) {
      if (queued?.joined) {
        const { id, params, input, calls } = queued.deployment
        this.#connection.run(
          'UPDATE deployments SET params = ?, input = ?, calls = ? WHERE id = ?',
          [JSON.stringify(params), JSON.stringify(input), calls, id],
        )
      }
    }
  }

  #remember(key: string, queued: Queued | null): void {
    this.#undo.push([key, this.#queued.get(key)])
    this.#queued.set(key, queued)
  }

  #queuedFor(key: string, intent: DeploymentIntent): Queued | null {
    let queued = this.#queued.get(key)
    if (queued === undefined) {
      const row = this.#connection.get(
        `SELECT * FROM deployments WHERE service = $service AND action = $action
           AND state IN ${PENDING_SQL}`,
        { service: intent.service, action: intent.action },
      )
      queued = row ? { deployment: toDeployment(row), joined: false } : null
      this.#remember(key, queued)
    }
    return queued
  }
}

function insertDeployment(connection: SqliteConnection, deployment: Deployment): void {
  connection.run(
    `INSERT INTO deployments (id, service, action, state, params, input, calls, trigger_id, created_at,
       hold_until, hold_reason)
     VALUES ($id, $service, $action, $state, $params, $input, $calls, $trigger, $at, $holdUntil,
       $holdReason)`,
    {
      id: deployment.id,
      holdUntil: deployment.hold?.until ?? null,
      holdReason: deployment.hold?.reason ?? null,
      state: deployment.state,
      service: deployment.service,
      action: deployment.action,
      params: JSON.stringify(deployment.params),
      input: JSON.stringify(deployment.input),
      calls: deployment.calls,
      trigger: deployment.triggerId,
      at: deployment.createdAt,
    },
  )
}

/** The first call of a trigger with this delivery id received since `since` (ISO time). */
export function firstOfDelivery(
  connection: SqliteConnection,
  triggerId: string,
  deliveryId: string,
  since: string,
): Call | undefined {
  const row = connection.get(
    `SELECT * FROM calls WHERE trigger_id = ? AND delivery_id = ? AND received_at >= ?
       AND outcome != 'duplicate' ORDER BY seq LIMIT 1`,
    [triggerId, deliveryId, since],
  )
  return row ? toCall(row) : undefined
}

/** Records a call: its row only, for the hot path. */
function writeCall(
  connection: SqliteConnection,
  call: RecordedCall,
  deploymentIds: string[],
  receivedAt: string,
): void {
  connection.run(
    `INSERT INTO calls (id, trigger_id, sender, outcome, status, reason, deployment_ids, delivery_id, remote_address, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [...callColumns(call, deploymentIds), receivedAt],
  )
}

/** Records a call and answers it as stored. */
export function insertCall(
  connection: SqliteConnection,
  call: RecordedCall,
  deploymentIds: string[],
): Call {
  const receivedAt = now()
  writeCall(connection, call, deploymentIds, receivedAt)
  return asCall(call, deploymentIds, receivedAt)
}

function asCall(call: RecordedCall, deploymentIds: string[], receivedAt: string): Call {
  return {
    id: call.id,
    triggerId: call.triggerId,
    sender: call.sender,
    outcome: call.outcome,
    status: call.status,
    reason: call.reason,
    deploymentIds,
    deliveryId: call.deliveryId,
    remoteAddress: call.remoteAddress,
    receivedAt,
  }
}
