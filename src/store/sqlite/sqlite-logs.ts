/** Deployment logs on SQLite: lines numbered from 1 per deployment, read after a known line. */
import type { LogLine } from '../../model/index.ts'
import type { LogStore } from '../log-store.ts'
import { toLogLine } from '../row-mapping.ts'
import type { SqliteConnection } from './sqlite-connection.ts'

export async function appendLog(
  connection: SqliteConnection,
  deploymentId: string,
  lines: Omit<LogLine, 'seq'>[],
): Promise<void> {
  if (lines.length === 0) {
    return
  }
  await connection.write(() => {
    const last = connection.get(
      'SELECT MAX(seq) AS seq FROM deployment_logs WHERE deployment_id = $id',
      { id: deploymentId },
    )
    let seq = Number(last?.seq ?? 0)
    for (const line of lines) {
      seq += 1
      connection.run(
        'INSERT INTO deployment_logs (deployment_id, seq, at, stream, line) VALUES ($id, $seq, $at, $stream, $line)',
        { id: deploymentId, seq, at: line.at, stream: line.stream, line: line.line },
      )
    }
  })
}

export function readLog(
  connection: SqliteConnection,
  deploymentId: string,
  afterSeq: number,
  limit: number,
): LogLine[] {
  return connection
    .read(() =>
      connection.all(
        'SELECT * FROM deployment_logs WHERE deployment_id = $id AND seq > $after ORDER BY seq LIMIT $limit',
        { id: deploymentId, after: afterSeq, limit },
      ),
    )
    .map(toLogLine)
}

/** The functions above behind the LogStore seam. */
export class SqliteLogs implements LogStore {
  #c: SqliteConnection

  constructor(connection: SqliteConnection) {
    this.#c = connection
  }

  async appendLog(deploymentId: string, lines: Omit<LogLine, 'seq'>[]): Promise<void> {
    await appendLog(this.#c, deploymentId, lines)
  }

  async readLog(deploymentId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
    return readLog(this.#c, deploymentId, afterSeq, limit)
  }
}
