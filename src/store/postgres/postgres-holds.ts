/**
 * Freezes and held deployments on PostgreSQL (holds-store.ts). Every move is one conditional
 * UPDATE: when two instances' timers release the same deployment, one row comes back to one.
 */
import type {
  Deployment,
  DeploymentHold,
  PendingState,
  Service,
  ServiceFreeze,
} from '../../model/index.ts'
import { toDeployment, toService } from '../row-mapping.ts'
import type { PostgresConnection } from './postgres-connection.ts'

export async function setFreeze(
  c: PostgresConnection,
  name: string,
  freeze: ServiceFreeze | null,
): Promise<Service | undefined> {
  const row = await c.row('UPDATE services SET frozen = $2 WHERE name = $1 RETURNING *', [
    name,
    freeze === null ? null : JSON.stringify(freeze),
  ])
  return row ? toService(row) : undefined
}

export async function listHeld(c: PostgresConnection, limit: number): Promise<Deployment[]> {
  const rows = await c.rows(
    "SELECT * FROM deployments WHERE state = 'held' ORDER BY seq LIMIT $1",
    [limit],
  )
  return rows.map(toDeployment)
}

export async function holdDeployment(
  c: PostgresConnection,
  id: string,
  hold: DeploymentHold,
): Promise<Deployment | undefined> {
  const row = await c.row(
    `UPDATE deployments SET hold_until = $2, hold_reason = $3
      WHERE id = $1 AND state = 'held' RETURNING *`,
    [id, hold.until, hold.reason],
  )
  return row ? toDeployment(row) : undefined
}

export async function releaseDeployment(
  c: PostgresConnection,
  id: string,
  from: readonly PendingState[],
): Promise<Deployment | undefined> {
  const row = await c.row(
    `UPDATE deployments SET state = 'queued', hold_until = NULL, hold_reason = NULL
      WHERE id = $1 AND state = ANY($2::text[]) RETURNING *`,
    [id, [...from]],
  )
  return row ? toDeployment(row) : undefined
}
