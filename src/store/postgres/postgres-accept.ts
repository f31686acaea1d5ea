/**
 * Accepting calls on PostgreSQL: the calls an instance receives together are committed in one
 * transaction, in arrival order, and join queued deployments safely against other instances.
 */
import { planJoin } from '../../actions/coalesce.ts'
import type { Call, Service } from '../../model/index.ts'
import { newId } from '../../model/ids.ts'
import type { GroupAnswer } from '../group-commit.ts'
import { GroupCommit } from '../group-commit.ts'
import { callOutcome, cooledDown, redelivery } from '../call-outcome.ts'
import { callColumns, toCall, toDeployment, toService } from '../row-mapping.ts'
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  IntentResult,
  RecordedCall,
} from '../store.ts'
import {
  codeOf,
  isUnavailable,
  isUniqueViolation,
  type PostgresConnection,
  type Queryable,
} from './postgres-connection.ts'

// How often an intent retries after losing the race to insert the queued deployment of its
// (service, action); each retry finds the winner's row and joins it, so 2 is enough in
// practice and the bound only stops a loop that a bug would make endless.
const JOIN_ATTEMPTS = 5
// Calls per transaction at most, so one batch does not hold its locks for long.
const MAX_BATCH = 256

interface PendingAccept {
  call: CallInput
  intents: DeploymentIntent[]
  options: AcceptOptions | undefined
}

/**
 * Commits the calls that arrive while the previous group commits in one transaction (see
 * GroupCommit), as the SQLite store does: a burst pays for one WAL flush per group, and calls
 * of one instance are applied in the order they arrived, so the newest tag of a burst wins.
 * Each call has its own savepoint: one bad call fails alone; a failed commit fails them all,
 * none answered before.
 */
export class PostgresAcceptBatcher {
  #c: PostgresConnection
  #group = new GroupCommit((batch: PendingAccept[]) => this.#commit(batch), { maxGroup: MAX_BATCH })

  constructor(connection: PostgresConnection) {
    this.#c = connection
  }

  accept(call: CallInput, intents: DeploymentIntent[], options?: AcceptOptions): Promise<AcceptResult> {
    return this.#group.submit({ call, intents, options })
  }

  #commit(batch: PendingAccept[]): Promise<GroupAnswer<AcceptResult>[]> {
    // A retried transaction (after a deadlock) starts over, with answers of its own.
    return this.#c.transaction(async (q) => {
      const answers: GroupAnswer<AcceptResult>[] = []
      const services = await lockKeys(q, batch)
      for (const item of batch) {
        await q.rows('SAVEPOINT call')
        try {
          const value = await acceptOne(q, services, item)
          await q.rows('RELEASE SAVEPOINT call')
          answers.push({ ok: true, value })
        } catch (error) {
          // Transient and connection failures belong to the whole transaction: retry or fail it.
          if (isUnavailable(error) || codeOf(error).startsWith('40')) {
            throw error
          }
          await q.rows('ROLLBACK TO SAVEPOINT call')
          answers.push({ ok: false, error })
        }
      }
      return answers
    })
  }
}

/**
 * Takes, in one global order, a transaction advisory lock per (service, action) the batch
 * touches and per delivery id its calls carry, then KEY SHARE on its services, which it returns
 * by name. Accepts on every instance thus queue behind each other per key and never deadlock,
 * whatever order their calls came in; KEY SHARE keeps a service from being deleted under us
 * without blocking a finish, which updates its row.
 */
async function lockKeys(q: Queryable, batch: PendingAccept[]): Promise<Map<string, Service>> {
  const intents = batch.flatMap((item) => item.intents)
  const deliveries = batch.flatMap(({ call }) =>
    call.deliveryId !== null && call.triggerId !== null ? [`delivery:${JSON.stringify([call.triggerId, call.deliveryId])}`] : [],
  )
  if (intents.length === 0 && deliveries.length === 0) {
    return new Map()
  }
  await q.rows(
    `SELECT pg_advisory_xact_lock(k) FROM (
       SELECT DISTINCT hashtextextended('deckhand:queue:' || x, 0) AS k
         FROM unnest($1::text[]) x ORDER BY k) keys`,
    [[...new Set([...intents.map((i) => JSON.stringify([i.service, i.action])), ...deliveries])]],
  )
  const rows = await q.rows(
    'SELECT * FROM services WHERE name = ANY($1::text[]) ORDER BY name FOR KEY SHARE',
    [[...new Set(intents.map((i) => i.service))]],
  )
  return new Map(rows.map((row) => [String(row.name), toService(row)]))
}

async function acceptOne(
  q: Queryable,
  services: Map<string, Service>,
  { call, intents, options }: PendingAccept,
): Promise<AcceptResult> {
  // lockKeys holds this delivery's lock: a redelivery on any instance waits, then finds this call.
  const first =
    call.deliveryId !== null && call.triggerId !== null && options?.deliverySince !== undefined
      ? await firstOfDelivery(q, call.triggerId, call.deliveryId, options.deliverySince)
      : undefined
  if (first) {
    const { recorded, deploymentIds } = redelivery(call, first)
    return { call: await insertCall(q, recorded, deploymentIds), results: [], duplicateOf: first }
  }
  const cooldownMs = options?.cooldownMs ?? 0
  // The trigger's intents hold the key locks of lockKeys, so its calls on every instance are
  // checked one after another, each seeing the steps committed before it.
  if (cooldownMs > 0 && call.triggerId !== null && (await stepSince(q, call.triggerId, cooldownMs))) {
    const { recorded, deploymentIds } = cooledDown(call, cooldownMs)
    return { call: await insertCall(q, recorded, deploymentIds), results: [] }
  }
  const results: IntentResult[] = []
  for (const intent of intents) {
    results.push(await applyIntent(q, services.get(intent.service), intent))
  }
  const { recorded, deploymentIds } = callOutcome(call, results)
  return { call: await insertCall(q, recorded, deploymentIds), results }
}

/**
 * The first call of a trigger with this delivery id since `since` (ISO time). `since` comes
 * from the caller's clock, received_at from the database's: a skew of a few seconds is
 * harmless against a 24-hour window.
 */
export async function firstOfDelivery(q: Queryable, triggerId: string, deliveryId: string, since: string): Promise<Call | undefined> {
  const row = await q.row(
    `SELECT * FROM calls WHERE trigger_id = $1 AND delivery_id = $2 AND received_at >= $3::timestamptz
       AND outcome != 'duplicate' ORDER BY seq LIMIT 1`,
    [triggerId, deliveryId, since],
  )
  return row ? toCall(row) : undefined
}

/** True when the trigger queued or joined a deployment within the last `ms`, by the database's clock. */
async function stepSince(q: Queryable, triggerId: string, ms: number): Promise<boolean> {
  const row = await q.row(
    `SELECT 1 FROM calls WHERE trigger_id = $1 AND outcome IN ('queued', 'coalesced')
       AND received_at > clock_timestamp() - $2 * interval '1 millisecond' LIMIT 1`,
    [triggerId, ms],
  )
  return row !== undefined
}

async function applyIntent(
  q: Queryable,
  service: Service | undefined,
  intent: DeploymentIntent,
): Promise<IntentResult> {
  if (!service) {
    return {
      kind: 'ignored',
      service: intent.service,
      reason: `service ${intent.service} does not exist`,
    }
  }
  for (let attempt = 1; ; attempt++) {
    // The queued row's lock makes a claim on another instance that holds it finish first;
    // the row is then no longer queued, and this intent starts a new deployment.
    const queuedRow = await q.row(
      "SELECT * FROM deployments WHERE service = $1 AND action = $2 AND state = 'queued' FOR UPDATE",
      [intent.service, intent.action],
    )
    const queued = queuedRow ? toDeployment(queuedRow) : undefined
    const decision = planJoin(service, queued, intent)
    if (decision.kind === 'ignored') {
      return { kind: 'ignored', service: intent.service, reason: decision.reason }
    }
    if (decision.kind === 'join' && queued) {
      const row = await q.row(
        'UPDATE deployments SET params = $2, input = $3, calls = calls + 1 WHERE id = $1 RETURNING *',
        [queued.id, JSON.stringify(decision.params), JSON.stringify(intent.input)],
      )
      return { kind: 'coalesced', deployment: toDeployment(row!) }
    }
    // Nothing queued was visible. Should a writer that skipped the key lock (an older
    // instance, a hand-written INSERT) have queued one meanwhile, deployments_one_queued
    // refuses ours and the next round joins theirs instead of failing the call.
    await q.rows('SAVEPOINT intent')
    try {
      const row = await q.row(
        `INSERT INTO deployments (id, service, action, state, params, input, calls, trigger_id, created_at)
         VALUES ($1, $2, $3, 'queued', $4, $5, 1, $6, clock_timestamp()) RETURNING *`,
        [
          newId('dpl'),
          intent.service,
          intent.action,
          JSON.stringify(decision.params),
          JSON.stringify(intent.input),
          intent.triggerId,
        ],
      )
      await q.rows('RELEASE SAVEPOINT intent')
      return { kind: 'queued', deployment: toDeployment(row!) }
    } catch (error) {
      if (!isUniqueViolation(error, 'deployments_one_queued') || attempt >= JOIN_ATTEMPTS) {
        throw error
      }
      await q.rows('ROLLBACK TO SAVEPOINT intent')
    }
  }
}

export async function insertCall(
  q: Queryable,
  call: RecordedCall,
  deploymentIds: string[],
): Promise<Call> {
  const row = await q.row(
    `INSERT INTO calls (id, trigger_id, sender, outcome, status, reason, deployment_ids, delivery_id, remote_address, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp()) RETURNING *`,
    callColumns(call, deploymentIds),
  )
  return toCall(row!)
}
