/** Freezes and held deployments on SQLite (holds-store.ts). */
import type {
  Deployment,
  DeploymentHold,
  PendingState,
  Service,
  ServiceFreeze,
} from '../../model/index.ts'
import { toDeployment } from '../row-mapping.ts'
import type { SqliteConnection } from './sqlite-connection.ts'
import { getServiceRow } from './sqlite-services.ts'

/** Runs inside the store's write that clears its service cache. */
export function setFreezeRow(
  connection: SqliteConnection,
  name: string,
  freeze: ServiceFreeze | null,
): Service | undefined {
  const changed = connection.run('UPDATE services SET frozen = $freeze WHERE name = $name', {
    name,
    freeze: freeze === null ? null : JSON.stringify(freeze),
  })
  return changed === 1 ? getServiceRow(connection, name) : undefined
}

export function listHeld(connection: SqliteConnection, limit: number): Deployment[] {
  return connection.read(() =>
    connection
      .all("SELECT * FROM deployments WHERE state = 'held' ORDER BY seq LIMIT $limit", { limit })
      .map(toDeployment),
  )
}

export function holdDeployment(
  connection: SqliteConnection,
  id: string,
  hold: DeploymentHold,
): Promise<Deployment | undefined> {
  return connection.write(() => {
    const changed = connection.run(
      `UPDATE deployments SET hold_until = $until, hold_reason = $reason
        WHERE id = $id AND state = 'held'`,
      { id, until: hold.until, reason: hold.reason },
    )
    return changed === 1 ? selectDeployment(connection, id) : undefined
  })
}

export function releaseDeployment(
  connection: SqliteConnection,
  id: string,
  from: readonly PendingState[],
): Promise<Deployment | undefined> {
  return connection.write(() => {
    const names = from.map((_, i) => `$from${i}`).join(', ')
    const changed = connection.run(
      `UPDATE deployments SET state = 'queued', hold_until = NULL, hold_reason = NULL
        WHERE id = $id AND state IN (${names})`,
      { id, ...Object.fromEntries(from.map((state, i) => [`from${i}`, state])) },
    )
    return changed === 1 ? selectDeployment(connection, id) : undefined
  })
}

function selectDeployment(connection: SqliteConnection, id: string): Deployment | undefined {
  const row = connection.get('SELECT * FROM deployments WHERE id = $id', { id })
  return row ? toDeployment(row) : undefined
}
