/**
 * churn: the accept load against a `command` service whose redeploy is `true`, so deployments
 * finish at once and one is always running: the worker's claims, log lines and finishes
 * compete with accepting calls on the same event loop. Reports the deployments run too.
 */
import {
  commandService,
  listAll,
  type LoadResult,
  removeDir,
  runWrk,
  serviceWithTrigger,
  type Settings,
  startDeckhand,
  tempDir,
  withCpu,
} from './lib.ts'

export interface ChurnResult extends LoadResult {
  serverCpuUsPerCall: number
  deploymentsRun: number
}

export async function benchChurn(settings: Settings): Promise<ChurnResult> {
  const dataDir = tempDir('churn')
  const deckhand = await startDeckhand(dataDir)
  try {
    const trigger = await serviceWithTrigger(deckhand, commandService('churn', 'true'))
    const url = `${deckhand.url}${trigger.path}`
    await runWrk(url, { connections: settings.connections, seconds: settings.warmupSeconds })
    const before = (await listAll(deckhand, '/api/v1/deployments?service=churn')).length
    const load = await withCpu(deckhand.pid, () =>
      runWrk(url, { connections: settings.connections, seconds: settings.seconds }),
    )
    const after = (await listAll(deckhand, '/api/v1/deployments?service=churn')).length
    return { ...load, deploymentsRun: after - before }
  } finally {
    await deckhand.stop()
    removeDir(dataDir)
  }
}
