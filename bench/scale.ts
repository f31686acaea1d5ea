/**
 * scale: 10,000 services with one trigger each; wrk sends each call to a random trigger at 64
 * connections; throughput, p99 and the server's RSS (idle after start, and after the load).
 *
 * Seeding 20,000 rows through the admin API costs one fsync each, about
 * 30 s on this machine, so one service and trigger are made through the API and the rest are
 * copies of those two rows in one transaction, each with its own name, id and token hash.
 * The server is then restarted on that database, as an operator's would be.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

import { newId } from '../src/model/ids.ts'
import { hashToken, makeToken } from '../src/triggers/token.ts'
import {
  commandService,
  type LoadResult,
  memoryOf,
  removeDir,
  runWrk,
  serviceWithTrigger,
  type Settings,
  startDeckhand,
  tempDir,
  withCpu,
} from './lib.ts'

export interface ScaleResult extends LoadResult {
  services: number
  idleRssMb: number
  rssMb: number
  peakRssMb: number
  serverCpuUsPerCall: number
}

export async function benchScale(settings: Settings, services = 10_000): Promise<ScaleResult> {
  const dataDir = tempDir('scale')
  try {
    const first = await startDeckhand(dataDir)
    let template: { id: string; path: string }
    try {
      // `sleep 5`: the worker starts a few commands a second at most, so the run measures accepting.
      template = await serviceWithTrigger(first, commandService('svc-0', 'sleep 5'))
    } finally {
      await first.stop()
    }
    const paths = [template.path, ...seed(join(dataDir, 'deckhand.db'), template.id, services - 1)]
    const pathsFile = join(dataDir, 'paths.txt')
    writeFileSync(pathsFile, paths.join('\n') + '\n')

    const deckhand = await startDeckhand(dataDir)
    try {
      const idle = memoryOf(deckhand.pid)
      const env = { BENCH_PATHS: pathsFile }
      await runWrk(
        `${deckhand.url}/`,
        { connections: settings.connections, seconds: settings.warmupSeconds },
        env,
      )
      const load = await withCpu(deckhand.pid, () =>
        runWrk(
          `${deckhand.url}/`,
          { connections: settings.connections, seconds: settings.seconds },
          env,
        ),
      )
      const after = memoryOf(deckhand.pid)
      return {
        ...load,
        services,
        idleRssMb: idle.rssMb,
        rssMb: after.rssMb,
        peakRssMb: after.peakRssMb,
      }
    } finally {
      await deckhand.stop()
    }
  } finally {
    removeDir(dataDir)
  }
}

/** Copies service svc-0 and its trigger `count` times; answers the new triggers' paths. */
function seed(file: string, templateTrigger: string, count: number): string[] {
  const db = new DatabaseSync(file)
  const service = db.prepare(
    `INSERT INTO services (name, driver, spec, tag, replicas, created_at, updated_at)
     SELECT $name, driver, spec, tag, replicas, created_at, updated_at FROM services WHERE name = 'svc-0'`,
  )
  const trigger = db.prepare(
    `INSERT INTO triggers (id, service, stack, token_hash, options, created_at)
     SELECT $id, $service, stack, $hash, options, created_at FROM triggers WHERE id = $template`,
  )
  const paths: string[] = []
  db.exec('BEGIN IMMEDIATE')
  for (let i = 1; i <= count; i += 1) {
    const token = makeToken()
    service.run({ name: `svc-${i}` })
    trigger.run({
      id: newId('trg'),
      service: `svc-${i}`,
      hash: hashToken(token),
      template: templateTrigger,
    })
    paths.push(`/hooks/${token}`)
  }
  db.exec('COMMIT')
  db.close()
  return paths
}
