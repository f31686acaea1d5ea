/**
 * Accepting calls on PostgreSQL: the calls an instance receives together are committed in one
 * transaction, in arrival order: lock (lockKeys), read facts, planAccept, write. Joins are
 * safe against other instances.
 */
import {
  type AcceptFacts,
  type AcceptItem,
  type AcceptPlan,
  planAccept,
  queueKey,
} from '../../calls/plan-accept.ts'
import type {
  AcceptOptions,
  AcceptResult,
  CallInput,
  DeploymentIntent,
  IntentResult,
  RecordedCall,
} from '../../model/call-accept.ts'
import type { Call, Deployment, Service } from '../../model/index.ts'
import type { GroupAnswer } from '../group-commit.ts'
import { GroupCommit } from '../group-commit.ts'
import { callColumns, PENDING_SQL, toCall, toDeployment, toService } from '../row-mapping.ts'
import { dropVotes } from './postgres-approvals.ts'
import {
  codeOf,
  isUnavailable,
  isUniqueViolation,
  type PostgresConnection,
  type Queryable,
} from './postgres-connection.ts'

// How often a call starts over after losing the race to insert the queued deployment of a
// (service, action); each retry finds the winner's row and joins it, so 2 is enough in
// practice and the bound only stops a loop that a bug would make endless.
const JOIN_ATTEMPTS = 5
// Calls per transaction at most, so one batch does not hold its locks for long.
const MAX_BATCH = 256

/**
 * Commits the calls that arrive while the previous group commits in one transaction (see
 * GroupCommit), as the SQLite store does: a burst pays for one WAL flush per group, and calls
 * of one instance are applied in the order they arrived, so the newest tag of a burst wins.
 * Each call has its own savepoint: one bad call fails alone; a failed commit fails them all,
 * none answered before.
 */
export class PostgresAcceptBatcher {
  #c: PostgresConnection
  #group = new GroupCommit((batch: AcceptItem[]) => this.#commit(batch), { maxGroup: MAX_BATCH })

  constructor(connection: PostgresConnection) {
    this.#c = connection
  }

  accept(
    call: CallInput,
    intents: DeploymentIntent[],
    options?: AcceptOptions,
  ): Promise<AcceptResult> {
    return this.#group.submit({ call, intents, options })
  }

  #commit(batch: AcceptItem[]): Promise<GroupAnswer<AcceptResult>[]> {
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
async function lockKeys(q: Queryable, batch: AcceptItem[]): Promise<Map<string, Service>> {
  const intents = batch.flatMap((item) => item.intents)
  const deliveries = batch.flatMap(({ call }) =>
    call.deliveryId !== null && call.triggerId !== null
      ? [`delivery:${JSON.stringify([call.triggerId, call.deliveryId])}`]
      : [],
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

/**
 * One call: read its facts under the locks lockKeys took, plan, write. Should a writer that
 * skipped the key lock (an older instance, a hand-written INSERT) have queued a deployment
 * meanwhile, deployments_one_pending refuses ours; the call then starts over from its facts
 * and joins theirs instead of failing.
 */
async function acceptOne(
  q: Queryable,
  services: Map<string, Service>,
  item: AcceptItem,
): Promise<AcceptResult> {
  for (let attempt = 1; ; attempt++) {
    const plan = planAccept(item, await readFacts(q, services, item))
    if (plan.inserts.length === 0) {
      return writePlan(q, plan)
    }
    await q.rows('SAVEPOINT plan')
    try {
      const written = await writePlan(q, plan)
      await q.rows('RELEASE SAVEPOINT plan')
      return written
    } catch (error) {
      if (!isUniqueViolation(error, 'deployments_one_pending') || attempt >= JOIN_ATTEMPTS) {
        throw error
      }
      await q.rows('ROLLBACK TO SAVEPOINT plan')
    }
  }
}

async function readFacts(
  q: Queryable,
  services: Map<string, Service>,
  { call, intents, options }: AcceptItem,
): Promise<AcceptFacts> {
  // lockKeys holds this delivery's lock: a redelivery on any instance waits, then finds this call.
  const firstOf =
    call.deliveryId !== null && call.triggerId !== null && options?.deliverySince !== undefined
      ? await firstOfDelivery(q, call.triggerId, call.deliveryId, options.deliverySince)
      : undefined
  // The trigger's intents hold the key locks of lockKeys, so its calls on every instance are
  // checked one after another, each seeing the steps committed before it.
  const hasCooldown = call.triggerId !== null && (options?.cooldownMs ?? 0) > 0
  const sinceLastStepMs = hasCooldown ? await sinceLastStep(q, call.triggerId!) : undefined
  const known = new Map<string, Service>()
  const queued = new Map<string, Deployment>()
  for (const intent of intents) {
    const service = services.get(intent.service)
    if (!service) {
      continue
    }
    known.set(service.name, service)
    // The queued row's lock makes a claim on another instance that holds it finish first;
    // the row is then no longer queued, and this intent starts a new deployment.
    const row = await q.row(
      `SELECT * FROM deployments WHERE service = $1 AND action = $2 AND state IN ${PENDING_SQL}
        FOR UPDATE`,
      [intent.service, intent.action],
    )
    if (row) {
      queued.set(queueKey(intent.service, intent.action), toDeployment(row))
    }
  }
  // `at` only stands in: the rows written take created_at from the database's clock.
  const at = new Date().toISOString()
  return { firstOfDelivery: firstOf, sinceLastStepMs, services: known, queued, at }
}

/** Writes a plan; the answer carries the rows as stored (created_at by the database's clock). */
async function writePlan(q: Queryable, plan: AcceptPlan): Promise<AcceptResult> {
  const stored = new Map<string, Deployment>()
  for (const d of plan.inserts) {
    const row = await q.row(
      `INSERT INTO deployments (id, service, action, state, params, input, calls, trigger_id, created_at,
         hold_until, hold_reason)
       VALUES ($1, $2, $3, $8, $4, $5, $6, $7, clock_timestamp(), $9, $10) RETURNING *`,
      [
        d.id,
        d.service,
        d.action,
        JSON.stringify(d.params),
        JSON.stringify(d.input),
        d.calls,
        d.triggerId,
        d.state,
        d.hold?.until ?? null,
        d.hold?.reason ?? null,
      ],
    )
    stored.set(d.id, toDeployment(row!))
  }
  for (const d of plan.joins) {
    const row = await q.row(
      'UPDATE deployments SET params = $2, input = $3, calls = $4 WHERE id = $1 RETURNING *',
      [d.id, JSON.stringify(d.params), JSON.stringify(d.input), d.calls],
    )
    stored.set(d.id, toDeployment(row!))
  }
  for (const reset of plan.voteResets) {
    await dropVotes(q, reset.deploymentId, reset.reason)
  }
  const results = plan.results.map((r): IntentResult =>
    r.kind === 'ignored'
      ? r
      : { kind: r.kind, deployment: stored.get(r.deployment.id) ?? r.deployment },
  )
  const call = await insertCall(q, plan.call, plan.deploymentIds)
  return { call, results, ...(plan.duplicateOf ? { duplicateOf: plan.duplicateOf } : {}) }
}

/**
 * The first call of a trigger with this delivery id since `since` (ISO time). `since` comes
 * from the caller's clock, received_at from the database's: a skew of a few seconds is
 * harmless against a 24-hour window.
 */
export async function firstOfDelivery(
  q: Queryable,
  triggerId: string,
  deliveryId: string,
  since: string,
): Promise<Call | undefined> {
  const row = await q.row(
    `SELECT * FROM calls WHERE trigger_id = $1 AND delivery_id = $2 AND received_at >= $3::timestamptz
       AND outcome != 'duplicate' ORDER BY seq LIMIT 1`,
    [triggerId, deliveryId, since],
  )
  return row ? toCall(row) : undefined
}

/** Milliseconds since the trigger last queued or joined a deployment, by the database's clock. */
async function sinceLastStep(q: Queryable, triggerId: string): Promise<number | undefined> {
  const row = await q.row(
    `SELECT extract(epoch FROM clock_timestamp() - received_at) * 1000 AS ms FROM calls
      WHERE trigger_id = $1 AND outcome IN ('queued', 'coalesced') ORDER BY seq DESC LIMIT 1`,
    [triggerId],
  )
  return row === undefined ? undefined : Number(row.ms)
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
