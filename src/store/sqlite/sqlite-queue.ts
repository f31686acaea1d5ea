/**
 * The deployment queue on SQLite: accepting calls (grouped into one commit), claiming,
 * leases, finishing and cancelling. SQLite has one writer, so a claim needs no row locks;
 * the partial unique indexes still refuse a second running deployment of a service.
 */
import { planJoin } from '../../actions/coalesce.ts'
import type { Call, Deployment } from '../../model/index.ts'
import { newId } from '../../model/ids.ts'
import type { GroupAnswer } from '../group-commit.ts'
import { GroupCommit } from '../group-commit.ts'
import { toCall, toDeployment } from '../row-mapping.ts'
import type { Service } from '../../model/index.ts'
import type {
  AcceptResult,
  CallInput,
  DeploymentIntent,
  DeploymentOutcome,
  IntentResult,
  LeaseState,
  RecordedCall,
} from '../store.ts'
import { isStorageFailure, type SqliteConnection } from './sqlite-connection.ts'

const now = (): string => new Date().toISOString()
const later = (ms: number): string => new Date(Date.now() + ms).toISOString()

interface PendingAccept {
  call: CallInput
  intents: DeploymentIntent[]
}

/**
 * Commits the calls that arrive together in one transaction (see GroupCommit), so a burst
 * pays for one fsync instead of one each. Each call has its own savepoint: one bad call fails
 * alone; a failed commit fails them all, and none was answered before it.
 */
export class SqliteAcceptBatcher {
  #connection: SqliteConnection
  #service: ServiceOf
  #group = new GroupCommit((batch: PendingAccept[]) => this.#commit(batch))

  constructor(connection: SqliteConnection, service: ServiceOf) {
    this.#connection = connection
    this.#service = service
  }

  accept(call: CallInput, intents: DeploymentIntent[]): Promise<AcceptResult> {
    return this.#group.submit({ call, intents })
  }

  #commit(batch: PendingAccept[]): GroupAnswer<AcceptResult>[] {
    const queued: QueuedMemo = new Map()
    return this.#connection.transaction(() =>
      batch.map((item): GroupAnswer<AcceptResult> => {
        this.#connection.db.exec('SAVEPOINT call')
        try {
          const value = acceptOne(this.#connection, this.#service, queued, item.call, item.intents)
          this.#connection.db.exec('RELEASE call')
          return { ok: true, value }
        } catch (error) {
          // A full or read-only disk fails the whole group: nothing of it may be answered 202.
          if (isStorageFailure(error)) {
            throw error
          }
          this.#connection.db.exec('ROLLBACK TO call')
          this.#connection.db.exec('RELEASE call')
          queued.clear()
          return { ok: false, error }
        }
      }),
    )
  }
}

/** A service by name, as of this transaction (the store's cached reader). */
type ServiceOf = (name: string) => Service | undefined

/**
 * The queued deployment of each service and action as this group's transaction has left it
 * (null: none), so the calls of a burst after the first need not read and parse it again.
 * Emptied when a call rolls back to its savepoint.
 */
type QueuedMemo = Map<string, Deployment | null>

function acceptOne(
  connection: SqliteConnection,
  service: ServiceOf,
  queued: QueuedMemo,
  call: CallInput,
  intents: DeploymentIntent[],
): AcceptResult {
  const results: IntentResult[] = []
  for (const intent of intents) {
    results.push(applyIntent(connection, service, queued, intent))
  }
  const deploymentIds = results.flatMap((r) => (r.kind === 'ignored' ? [] : [r.deployment.id]))
  const outcome = results.some((r) => r.kind === 'queued')
    ? 'queued'
    : results.some((r) => r.kind === 'coalesced')
      ? 'coalesced'
      : 'ignored'
  const reason =
    outcome === 'ignored'
      ? results.map((r) => (r.kind === 'ignored' ? r.reason : '')).filter(Boolean).join('; ') ||
        'nothing to deploy'
      : (call.reason ?? null)
  const recorded = insertCall(
    connection,
    { ...call, outcome, status: outcome === 'ignored' ? 200 : 202, reason },
    deploymentIds,
  )
  return { call: recorded, results }
}

function applyIntent(connection: SqliteConnection, service: ServiceOf, memo: QueuedMemo, intent: DeploymentIntent): IntentResult {
  const serviceRow = service(intent.service)
  if (!serviceRow) {
    return { kind: 'ignored', service: intent.service, reason: `service ${intent.service} does not exist` }
  }
  const key = `${intent.service}\n${intent.action}`
  let queued = memo.get(key)
  if (queued === undefined) {
    const queuedRow = connection.get(
      "SELECT * FROM deployments WHERE service = $service AND action = $action AND state = 'queued'",
      { service: intent.service, action: intent.action },
    )
    queued = queuedRow ? toDeployment(queuedRow) : null
    memo.set(key, queued)
  }
  const decision = planJoin(serviceRow, queued ?? undefined, intent)
  if (decision.kind === 'ignored') {
    return { kind: 'ignored', service: intent.service, reason: decision.reason }
  }
  if (decision.kind === 'join' && queued) {
    connection.run(
      'UPDATE deployments SET params = $params, input = $input, calls = calls + 1 WHERE id = $id',
      { id: queued.id, params: JSON.stringify(decision.params), input: JSON.stringify(intent.input) },
    )
    const joined: Deployment = { ...queued, params: decision.params, input: intent.input, calls: queued.calls + 1 }
    memo.set(key, joined)
    return { kind: 'coalesced', deployment: joined }
  }
  const deployment: Deployment = {
    id: newId('dpl'),
    service: intent.service,
    action: intent.action,
    state: 'queued',
    params: decision.params,
    input: intent.input,
    calls: 1,
    triggerId: intent.triggerId,
    createdAt: now(),
    startedAt: null,
    finishedAt: null,
    error: null,
    owner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
  }
  connection.run(
    `INSERT INTO deployments (id, service, action, state, params, input, calls, trigger_id, created_at)
     VALUES ($id, $service, $action, 'queued', $params, $input, 1, $trigger, $at)`,
    {
      id: deployment.id,
      service: deployment.service,
      action: deployment.action,
      params: JSON.stringify(deployment.params),
      input: JSON.stringify(deployment.input),
      trigger: deployment.triggerId,
      at: deployment.createdAt,
    },
  )
  memo.set(key, deployment)
  return { kind: 'queued', deployment }
}

export function insertCall(connection: SqliteConnection, call: RecordedCall, deploymentIds: string[]): Call {
  const receivedAt = now()
  connection.run(
    `INSERT INTO calls (id, trigger_id, sender, outcome, status, reason, deployment_ids, delivery_id, remote_address, received_at)
     VALUES ($id, $trigger, $sender, $outcome, $status, $reason, $deployments, $delivery, $remote, $at)`,
    {
      id: call.id,
      trigger: call.triggerId,
      sender: call.sender,
      outcome: call.outcome,
      status: call.status,
      reason: call.reason,
      deployments: JSON.stringify(deploymentIds),
      delivery: call.deliveryId,
      remote: call.remoteAddress,
      at: receivedAt,
    },
  )
  return toCall({
    id: call.id,
    trigger_id: call.triggerId,
    sender: call.sender,
    outcome: call.outcome,
    status: call.status,
    reason: call.reason,
    deployment_ids: deploymentIds,
    delivery_id: call.deliveryId,
    remote_address: call.remoteAddress,
    received_at: receivedAt,
  })
}

export function claimNext(connection: SqliteConnection, owner: string, leaseMs: number): Deployment | undefined {
  return connection.transaction(() => {
    const row = connection.get(
      `SELECT * FROM deployments d WHERE state = 'queued'
         AND NOT EXISTS (SELECT 1 FROM deployments r WHERE r.service = d.service AND r.state = 'running')
       ORDER BY seq LIMIT 1`,
    )
    if (!row) {
      return undefined
    }
    const startedAt = now()
    const leaseExpiresAt = later(leaseMs)
    connection.run(
      `UPDATE deployments SET state = 'running', owner = $owner, started_at = $at, lease_expires_at = $lease
       WHERE id = $id AND state = 'queued'`,
      { id: String(row.id), owner, at: startedAt, lease: leaseExpiresAt },
    )
    return { ...toDeployment(row), state: 'running' as const, owner, startedAt, leaseExpiresAt }
  })
}

export function renewLease(connection: SqliteConnection, id: string, owner: string, leaseMs: number): LeaseState {
  return connection.transaction(() => {
    const held = connection.run(
      "UPDATE deployments SET lease_expires_at = $lease WHERE id = $id AND owner = $owner AND state = 'running'",
      { id, owner, lease: later(leaseMs) },
    )
    const row = connection.get('SELECT cancel_requested FROM deployments WHERE id = $id', { id })
    return { held: held === 1, cancelRequested: Boolean(row?.cancel_requested) }
  })
}

export function finishDeployment(
  connection: SqliteConnection,
  id: string,
  owner: string,
  outcome: DeploymentOutcome,
): boolean {
  return connection.transaction(() => {
    const row = connection.get(
      "SELECT service FROM deployments WHERE id = $id AND owner = $owner AND state = 'running'",
      { id, owner },
    )
    if (!row) {
      return false
    }
    connection.run(
      `UPDATE deployments SET state = $state, finished_at = $at, error = $error, lease_expires_at = NULL
       WHERE id = $id`,
      { id, state: outcome.state, at: now(), error: outcome.state === 'succeeded' ? null : outcome.error },
    )
    if (outcome.state === 'succeeded') {
      setServiceStateRow(connection, String(row.service), outcome)
    }
    return true
  })
}

export function setServiceStateRow(
  connection: SqliteConnection,
  name: string,
  state: { replicas?: number | null; tag?: string | null },
): void {
  if (state.replicas !== undefined) {
    connection.run('UPDATE services SET replicas = $replicas WHERE name = $name', { name, replicas: state.replicas })
  }
  if (state.tag !== undefined) {
    connection.run('UPDATE services SET tag = $tag WHERE name = $name', { name, tag: state.tag })
  }
}

export function cancelDeployment(connection: SqliteConnection, id: string): Deployment | undefined {
  return connection.transaction(() => {
    connection.run(
      `UPDATE deployments SET state = 'canceled', finished_at = $at, error = 'canceled before it started'
       WHERE id = $id AND state = 'queued'`,
      { id, at: now() },
    )
    connection.run("UPDATE deployments SET cancel_requested = 1 WHERE id = $id AND state = 'running'", { id })
    const row = connection.get('SELECT * FROM deployments WHERE id = $id', { id })
    return row ? toDeployment(row) : undefined
  })
}

export function failAbandoned(
  connection: SqliteConnection,
  reason: string,
  scope: 'expired' | 'all' | { owner: string },
): Deployment[] {
  return connection.transaction(() => {
    const rows =
      scope === 'all'
        ? connection.all("SELECT * FROM deployments WHERE state = 'running'")
        : scope === 'expired'
          ? connection.all("SELECT * FROM deployments WHERE state = 'running' AND lease_expires_at < $now", { now: now() })
          : connection.all("SELECT * FROM deployments WHERE state = 'running' AND owner = $owner", { owner: scope.owner })
    const finishedAt = now()
    for (const row of rows) {
      connection.run(
        "UPDATE deployments SET state = 'failed', finished_at = $at, error = $reason, lease_expires_at = NULL WHERE id = $id",
        { id: String(row.id), at: finishedAt, reason },
      )
    }
    return rows.map((row) => ({ ...toDeployment(row), state: 'failed' as const, finishedAt, error: reason }))
  })
}
