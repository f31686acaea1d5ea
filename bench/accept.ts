/**
 * accept: POSTs of a ~1 KB JSON body to one trigger URL at 64 connections; Deckhand on SQLite
 * (WAL: every 202 is committed and flushed). The service's redeploy is `sleep 1`, so the
 * worker starts at most one command a second and the run measures accepting calls: nearly every
 * call joins the queued deployment (coalesced) and is recorded.
 */
import { join } from 'node:path'

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

export interface AcceptResult extends LoadResult {
  rssMb: number
  peakRssMb: number
  serverCpuUsPerCall: number
}

export async function benchAccept(settings: Settings): Promise<AcceptResult> {
  const dataDir = tempDir('accept')
  const deckhand = await startDeckhand(dataDir)
  try {
    const trigger = await serviceWithTrigger(deckhand, commandService('web', 'sleep 1'))
    const url = `${deckhand.url}${trigger.path}`
    await runWrk(url, { connections: settings.connections, seconds: settings.warmupSeconds })
    const load = await withCpu(deckhand.pid, () =>
      runWrk(url, { connections: settings.connections, seconds: settings.seconds }),
    )
    return { ...load, ...memoryOf(deckhand.pid) }
  } finally {
    await deckhand.stop()
    removeDir(join(dataDir))
  }
}
