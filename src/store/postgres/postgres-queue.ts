/**
 * The deployment queue on PostgreSQL, shared by any number of instances: claiming with
 * FOR UPDATE SKIP LOCKED, leases on the database clock, finishing fenced by owner, cancelling,
 * and failing what a lost instance left running. Accepting calls is in postgres-accept.ts.
 */
import type {
  Deployment,
  DeploymentState,
  Page,
  PageRequest,
  PendingState,
  TriedChange,
} from '../../model/index.ts'
import { triedChange, triedColumn } from '../../queue/tried-change.ts'
import type { QueueStore } from '../queue-store.ts'
import { PENDING_SQL, restoredSpec, toDeployment, toPage, toService } from '../row-mapping.ts'
import {
  type DeploymentFilter,
  type DeploymentOutcome,
  type LeaseState,
  LOG_CHANNEL,
} from '../store.ts'
import {
  type Filter,
  isUniqueViolation,
  type PostgresConnection,
  type Queryable,
  selectPage,
} from './postgres-connection.ts'

// Times that order deployments across instances come from the database's clock, never from
// each instance's own: a lease is compared with the same clock that wrote it.
const LEASE = "clock_timestamp() + $3::bigint * interval '1 millisecond'"

// Candidates one claim looks at before answering "nothing can start"; only reached when other
// instances keep winning the race on deployments_one_running.
const CLAIM_ATTEMPTS = 5

/**
 * Claims the oldest queued deployment that is first in line for its service and whose service
 * has nothing running. SKIP LOCKED lets claimers on every instance pass over each other's
 * rows instead of queueing behind them. The NOT EXISTS checks read a snapshot, so two claims
 * can still pick two deployments of one service; deployments_one_running then refuses the
 * later one, which rolls back to its savepoint and tries the next candidate.
 */
export function claimNext(
  c: PostgresConnection,
  owner: string,
  leaseMs: number,
): Promise<Deployment | undefined> {
  return c.transaction(async (q) => {
    const passed: string[] = []
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      // Taken before the SELECT, so a rollback also drops the lock on a candidate we gave up.
      await q.rows('SAVEPOINT claim')
      const candidate = await q.row(
        `SELECT id, service FROM deployments d
          WHERE state = 'queued' AND NOT (service = ANY($1::text[]))
            AND NOT EXISTS (SELECT 1 FROM deployments r WHERE r.service = d.service AND r.state = 'running')
            AND NOT EXISTS (SELECT 1 FROM deployments o
                             WHERE o.service = d.service AND o.state = 'queued' AND o.seq < d.seq)
          ORDER BY seq LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [passed],
      )
      if (!candidate) {
        return undefined
      }
      try {
        await q.rows(
          `UPDATE deployments SET state = 'running', owner = $2, lease_expires_at = ${LEASE} WHERE id = $1`,
          [candidate.id, owner, leaseMs],
        )
      } catch (error) {
        if (!isUniqueViolation(error, 'deployments_one_running')) {
          throw error
        }
        await q.rows('ROLLBACK TO SAVEPOINT claim')
        passed.push(String(candidate.service))
        continue
      }
      // Stamped after the unique check let us through, which waited for the previous
      // deployment's finish to commit: started_at is never before that finished_at.
      const row = await q.row(
        'UPDATE deployments SET started_at = clock_timestamp() WHERE id = $1 RETURNING *',
        [candidate.id],
      )
      return toDeployment(row!)
    }
    return undefined
  })
}

/** One statement: extends the lease if this owner still runs it, and reads the cancel flag. */
export async function renewLease(
  c: PostgresConnection,
  id: string,
  owner: string,
  leaseMs: number,
): Promise<LeaseState> {
  const row = await c.row(
    `WITH renewed AS (
       UPDATE deployments SET lease_expires_at = ${LEASE}
        WHERE id = $1 AND owner = $2 AND state = 'running' RETURNING id)
     SELECT EXISTS (SELECT 1 FROM renewed) AS held,
            COALESCE((SELECT cancel_requested FROM deployments WHERE id = $1), false) AS cancel_requested`,
    [id, owner, leaseMs],
  )
  return { held: Boolean(row?.held), cancelRequested: Boolean(row?.cancel_requested) }
}

export function finishDeployment(
  c: PostgresConnection,
  id: string,
  owner: string,
  outcome: DeploymentOutcome,
): Promise<boolean> {
  return c.transaction(async (q) => {
    // The owner fence: an instance whose deployment was failed as abandoned finds no row here.
    const tried = outcome.state !== 'succeeded' && outcome.tried ? outcome.tried : null
    const row = await q.row(
      `UPDATE deployments SET state = $3, finished_at = clock_timestamp(), error = $4, lease_expires_at = NULL,
         image = $5, digest = $6, tried = $7
        WHERE id = $1 AND owner = $2 AND state = 'running' RETURNING service`,
      [
        id,
        owner,
        outcome.state,
        outcome.state === 'succeeded' ? null : outcome.error,
        outcome.state === 'succeeded' ? (outcome.image ?? null) : null,
        outcome.state === 'succeeded' ? (outcome.digest ?? null) : null,
        tried && triedColumn(tried),
      ],
    )
    if (!row) {
      return false
    }
    const name = String(row.service)
    if (outcome.state === 'succeeded') {
      await setServiceStateRow(q, name, outcome)
      if (outcome.deployed) {
        await q.rows('UPDATE services SET deployed_spec = $2 WHERE name = $1', [
          name,
          JSON.stringify(outcome.deployed),
        ])
      }
    } else if (tried) {
      const service = await q.row('SELECT * FROM services WHERE name = $1 FOR UPDATE', [name])
      await putServiceBack(q, service, tried)
    }
    await notifyEnded(q, id)
    return true
  })
}

/**
 * The service's target and image back to what runs, when its row (read FOR UPDATE, so a PATCH
 * committing in between is not overwritten) still shows `tried`.
 */
async function putServiceBack(
  q: Queryable,
  service: Record<string, unknown> | undefined,
  tried: TriedChange,
): Promise<void> {
  const spec = service && restoredSpec(service.spec, service.deployed_spec, tried)
  if (spec) {
    await q.rows('UPDATE services SET spec = $2, updated_at = clock_timestamp() WHERE name = $1', [
      service.name,
      spec,
    ])
  }
}

export async function setServiceStateRow(
  q: Queryable,
  name: string,
  state: { replicas?: number | null; tag?: string | null },
): Promise<void> {
  if (state.replicas !== undefined) {
    await q.rows('UPDATE services SET replicas = $2 WHERE name = $1', [name, state.replicas])
  }
  if (state.tag !== undefined) {
    await q.rows('UPDATE services SET tag = $2 WHERE name = $1', [name, state.tag])
  }
}

export function moveDeployment(
  c: PostgresConnection,
  id: string,
  from: readonly PendingState[],
  to: PendingState | 'canceled',
  error?: string,
): Promise<Deployment | undefined> {
  return c.transaction(async (q) => {
    const canceled = to === 'canceled'
    const row = await q.row(
      `UPDATE deployments SET state = $2,
          finished_at = CASE WHEN $4 THEN clock_timestamp() END, error = CASE WHEN $4 THEN $5 END
        WHERE id = $1 AND state = ANY($3::text[]) RETURNING *`,
      [id, to, [...from], canceled, error ?? null],
    )
    if (row && canceled) {
      await notifyEnded(q, id)
    }
    return row ? toDeployment(row) : undefined
  })
}

export function cancelDeployment(
  c: PostgresConnection,
  id: string,
): Promise<Deployment | undefined> {
  return c.transaction(async (q) => {
    await q.rows(
      `UPDATE deployments SET state = 'canceled', finished_at = clock_timestamp(), error = 'canceled before it started'
        WHERE id = $1 AND state IN ${PENDING_SQL}`,
      [id],
    )
    await q.rows(
      "UPDATE deployments SET cancel_requested = true WHERE id = $1 AND state = 'running'",
      [id],
    )
    const row = await q.row('SELECT * FROM deployments WHERE id = $1', [id])
    if (row?.state === 'canceled') {
      await notifyEnded(q, id)
    }
    return row ? toDeployment(row) : undefined
  })
}

/**
 * Tells the other instances, when the transaction commits, that the deployment ended: their
 * `?wait=` answers and log followers re-read it at once instead of at their next poll.
 */
async function notifyEnded(q: Queryable, id: string): Promise<void> {
  await q.rows('SELECT pg_notify($1, $2)', [LOG_CHANNEL, id])
}

/**
 * Fails running deployments in one UPDATE. Two instances reaping at once cannot both fail a
 * row: the second waits for the first's row lock, re-checks `state = 'running'`, and skips it.
 */
export async function failAbandoned(
  c: PostgresConnection,
  reason: string,
  scope: 'expired' | 'all' | { owner: string },
): Promise<Deployment[]> {
  const [where, params] =
    scope === 'all'
      ? ['TRUE', []]
      : scope === 'expired'
        ? ['lease_expires_at < clock_timestamp()', []]
        : ['owner = $3', [scope.owner]]
  // One transaction, so its NOTIFYs (see notifyEnded) are sent when the whole of it commits.
  return c.transaction(async (q) => {
    const rows = await q.rows(
      `WITH failed AS (
         UPDATE deployments SET state = 'failed', finished_at = clock_timestamp(), error = $2, lease_expires_at = NULL
          WHERE state = 'running' AND ${where} RETURNING *)
       SELECT failed.*, pg_notify($1, failed.id) FROM failed`,
      [LOG_CHANNEL, reason, ...params],
    )
    const failed: Deployment[] = []
    for (const row of rows) {
      // Recorded as the worker would have: what it tried, and the row put back to what runs.
      const deployment = toDeployment(row)
      const service = await q.row('SELECT * FROM services WHERE name = $1 FOR UPDATE', [
        deployment.service,
      ])
      const tried = service && triedChange(toService(service), deployment)
      if (!tried) {
        failed.push(deployment)
        continue
      }
      const column = triedColumn(tried)
      await q.rows('UPDATE deployments SET tried = $2 WHERE id = $1', [deployment.id, column])
      await putServiceBack(q, service, tried)
      failed.push({ ...deployment, tried: JSON.parse(column) as TriedChange })
    }
    return failed
  })
}

/** The statements above behind the QueueStore seam, with the reads of deployments. */
export class PostgresQueue implements QueueStore {
  #c: PostgresConnection

  constructor(connection: PostgresConnection) {
    this.#c = connection
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = await this.#c.row('SELECT * FROM deployments WHERE id = $1', [id])
    return row ? toDeployment(row) : undefined
  }

  async listDeployments(filter: DeploymentFilter, page: PageRequest): Promise<Page<Deployment>> {
    const where: Filter[] = []
    if (filter.service !== undefined) {
      where.push(['service = ?', filter.service])
    }
    if (filter.state !== undefined) {
      where.push(['state = ?', filter.state])
    }
    return toPage(await selectPage(this.#c, 'deployments', where, page), page.limit, toDeployment)
  }

  async countDeployments(state: DeploymentState): Promise<number> {
    const row = await this.#c.row('SELECT COUNT(*)::int AS n FROM deployments WHERE state = $1', [
      state,
    ])
    return Number(row?.n ?? 0)
  }

  async lastSucceededBefore(
    service: string,
    beforeId: string | null,
  ): Promise<Deployment | undefined> {
    const row = await this.#c.row(
      `SELECT * FROM deployments WHERE service = $1 AND state = 'succeeded' AND action IN ('redeploy', 'rollback')
         AND seq < COALESCE((SELECT seq FROM deployments WHERE id = $2), 9223372036854775807)
       ORDER BY seq DESC LIMIT 1`,
      [service, beforeId],
    )
    return row ? toDeployment(row) : undefined
  }

  claimNext(owner: string, leaseMs: number): Promise<Deployment | undefined> {
    return claimNext(this.#c, owner, leaseMs)
  }

  renewLease(id: string, owner: string, leaseMs: number): Promise<LeaseState> {
    return renewLease(this.#c, id, owner, leaseMs)
  }

  finishDeployment(id: string, owner: string, outcome: DeploymentOutcome): Promise<boolean> {
    return finishDeployment(this.#c, id, owner, outcome)
  }

  cancelDeployment(id: string): Promise<Deployment | undefined> {
    return cancelDeployment(this.#c, id)
  }

  moveDeployment(
    id: string,
    from: readonly PendingState[],
    to: PendingState | 'canceled',
    error?: string,
  ): Promise<Deployment | undefined> {
    return moveDeployment(this.#c, id, from, to, error)
  }

  failAbandoned(
    reason: string,
    scope: 'expired' | 'all' | { owner: string },
  ): Promise<Deployment[]> {
    return failAbandoned(this.#c, reason, scope)
  }
}
