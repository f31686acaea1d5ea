/**
 * The deployment queue on SQLite: claiming, leases, finishing and cancelling (calls are accepted
 * in sqlite-accept.ts). SQLite has one writer, so a claim needs no row locks; the partial unique
 * indexes still refuse a second running deployment of a service.
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
import type { DeploymentFilter, DeploymentOutcome, LeaseState } from '../store.ts'
import type { SqliteReadCache } from './sqlite-cache.ts'
import type { SqliteConnection } from './sqlite-connection.ts'
import { selectPage } from './sqlite-page.ts'

const now = (): string => new Date().toISOString()
const later = (ms: number): string => new Date(Date.now() + ms).toISOString()

export function claimNext(
  connection: SqliteConnection,
  owner: string,
  leaseMs: number,
): Promise<Deployment | undefined> {
  return connection.write(() => {
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

export function renewLease(
  connection: SqliteConnection,
  id: string,
  owner: string,
  leaseMs: number,
): Promise<LeaseState> {
  return connection.write(() => {
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
): Promise<boolean> {
  return connection.write(() => {
    const row = connection.get(
      "SELECT service FROM deployments WHERE id = $id AND owner = $owner AND state = 'running'",
      { id, owner },
    )
    if (!row) {
      return false
    }
    const tried = outcome.state !== 'succeeded' && outcome.tried ? outcome.tried : null
    connection.run(
      `UPDATE deployments SET state = $state, finished_at = $at, error = $error, lease_expires_at = NULL,
         image = $image, digest = $digest, tried = $tried
       WHERE id = $id`,
      {
        id,
        state: outcome.state,
        at: now(),
        error: outcome.state === 'succeeded' ? null : outcome.error,
        image: outcome.state === 'succeeded' ? (outcome.image ?? null) : null,
        digest: outcome.state === 'succeeded' ? (outcome.digest ?? null) : null,
        tried: tried && triedColumn(tried),
      },
    )
    const name = String(row.service)
    if (outcome.state === 'succeeded') {
      setServiceStateRow(connection, name, outcome)
      if (outcome.deployed) {
        connection.run('UPDATE services SET deployed_spec = $deployed WHERE name = $name', {
          name,
          deployed: JSON.stringify(outcome.deployed),
        })
      }
    } else if (tried) {
      putServiceBack(connection, name, tried)
    }
    return true
  })
}

/** The service's target and image back to what runs, when its row still shows `tried`. */
function putServiceBack(connection: SqliteConnection, name: string, tried: TriedChange): void {
  const service = connection.get('SELECT spec, deployed_spec FROM services WHERE name = $name', {
    name,
  })
  const spec = service && restoredSpec(service.spec, service.deployed_spec, tried)
  if (spec) {
    connection.run('UPDATE services SET spec = $spec, updated_at = $at WHERE name = $name', {
      name,
      spec,
      at: now(),
    })
  }
}

export function setServiceStateRow(
  connection: SqliteConnection,
  name: string,
  state: { replicas?: number | null; tag?: string | null },
): void {
  if (state.replicas !== undefined) {
    connection.run('UPDATE services SET replicas = $replicas WHERE name = $name', {
      name,
      replicas: state.replicas,
    })
  }
  if (state.tag !== undefined) {
    connection.run('UPDATE services SET tag = $tag WHERE name = $name', { name, tag: state.tag })
  }
}

export function moveDeployment(
  connection: SqliteConnection,
  id: string,
  from: readonly PendingState[],
  to: PendingState | 'canceled',
  error?: string,
): Promise<Deployment | undefined> {
  return connection.write(() => {
    const names = from.map((_, i) => `$from${i}`).join(', ')
    const moved = connection.run(
      `UPDATE deployments SET state = $to, finished_at = $finished, error = $error
       WHERE id = $id AND state IN (${names})`,
      {
        id,
        to,
        finished: to === 'canceled' ? now() : null,
        error: to === 'canceled' ? (error ?? null) : null,
        ...Object.fromEntries(from.map((state, i) => [`from${i}`, state])),
      },
    )
    const row =
      moved === 1 ? connection.get('SELECT * FROM deployments WHERE id = $id', { id }) : null
    return row ? toDeployment(row) : undefined
  })
}

export function cancelDeployment(
  connection: SqliteConnection,
  id: string,
): Promise<Deployment | undefined> {
  return connection.write(() => {
    connection.run(
      `UPDATE deployments SET state = 'canceled', finished_at = $at, error = 'canceled before it started'
       WHERE id = $id AND state IN ${PENDING_SQL}`,
      { id, at: now() },
    )
    connection.run(
      "UPDATE deployments SET cancel_requested = 1 WHERE id = $id AND state = 'running'",
      { id },
    )
    const row = connection.get('SELECT * FROM deployments WHERE id = $id', { id })
    return row ? toDeployment(row) : undefined
  })
}

export function failAbandoned(
  connection: SqliteConnection,
  reason: string,
  scope: 'expired' | 'all' | { owner: string },
): Promise<Deployment[]> {
  return connection.write(() => {
    const rows =
      scope === 'all'
        ? connection.all("SELECT * FROM deployments WHERE state = 'running'")
        : scope === 'expired'
          ? connection.all(
              "SELECT * FROM deployments WHERE state = 'running' AND lease_expires_at < $now",
              { now: now() },
            )
          : connection.all("SELECT * FROM deployments WHERE state = 'running' AND owner = $owner", {
              owner: scope.owner,
            })
    const finishedAt = now()
    return rows.map((row) => {
      const deployment = toDeployment(row)
      // Recorded as the worker would have: what it tried, and the row put back to what runs.
      const service = connection.get('SELECT * FROM services WHERE name = $name', {
        name: deployment.service,
      })
      const tried = service && triedChange(toService(service), deployment)
      const column = tried ? triedColumn(tried) : null
      connection.run(
        `UPDATE deployments SET state = 'failed', finished_at = $at, error = $reason,
           lease_expires_at = NULL, tried = $tried WHERE id = $id`,
        { id: deployment.id, at: finishedAt, reason, tried: column },
      )
      if (tried) {
        putServiceBack(connection, deployment.service, tried)
      }
      const recorded = column === null ? null : (JSON.parse(column) as TriedChange)
      return { ...deployment, state: 'failed' as const, finishedAt, error: reason, tried: recorded }
    })
  })
}

/** The statements above behind the QueueStore seam, with the reads of deployments. */
export class SqliteQueue implements QueueStore {
  #c: SqliteConnection
  /** Cleared when a deployment ends: its service's replicas, tag and deployed spec change. */
  #cache: SqliteReadCache

  constructor(connection: SqliteConnection, cache: SqliteReadCache) {
    this.#c = connection
    this.#cache = cache
  }

  async getDeployment(id: string): Promise<Deployment | undefined> {
    const row = this.#c.read(() => this.#c.get('SELECT * FROM deployments WHERE id = $id', { id }))
    return row ? toDeployment(row) : undefined
  }

  async listDeployments(filter: DeploymentFilter, page: PageRequest): Promise<Page<Deployment>> {
    const rows = selectPage(
      this.#c,
      'deployments',
      { service: filter.service, state: filter.state },
      page,
    )
    return toPage(rows, page.limit, toDeployment)
  }

  async countDeployments(state: DeploymentState): Promise<number> {
    return Number(
      this.#c.read(() =>
        this.#c.get('SELECT COUNT(*) AS n FROM deployments WHERE state = $state', { state }),
      )?.n ?? 0,
    )
  }

  async lastSucceededBefore(
    service: string,
    beforeId: string | null,
  ): Promise<Deployment | undefined> {
    const row = this.#c.read(() =>
      this.#c.get(
        `SELECT * FROM deployments WHERE service = $service AND state = 'succeeded' AND action IN ('redeploy', 'rollback')
           AND seq < COALESCE((SELECT seq FROM deployments WHERE id = $before), 9223372036854775807)
         ORDER BY seq DESC LIMIT 1`,
        { service, before: beforeId },
      ),
    )
    return row ? toDeployment(row) : undefined
  }

  async claimNext(owner: string, leaseMs: number): Promise<Deployment | undefined> {
    return claimNext(this.#c, owner, leaseMs)
  }

  async renewLease(id: string, owner: string, leaseMs: number): Promise<LeaseState> {
    return renewLease(this.#c, id, owner, leaseMs)
  }

  async finishDeployment(id: string, owner: string, outcome: DeploymentOutcome): Promise<boolean> {
    // Committed when the call returns, flushed later: the cache goes at once
    // (see SqliteCatalogue's #changing).
    const finished = finishDeployment(this.#c, id, owner, outcome)
    this.#cache.clear()
    try {
      return await finished
    } finally {
      // A success sets the service's replicas, tag and deployed spec; a failure may put it back.
      this.#cache.clear()
    }
  }

  async cancelDeployment(id: string): Promise<Deployment | undefined> {
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

  async failAbandoned(
    reason: string,
    scope: 'expired' | 'all' | { owner: string },
  ): Promise<Deployment[]> {
    // A redeploy failed here may put its service row back, as finishDeployment does.
    const failed = failAbandoned(this.#c, reason, scope)
    this.#cache.clear()
    try {
      return await failed
    } finally {
      this.#cache.clear()
    }
  }
}
