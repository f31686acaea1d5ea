/**
 * overload: 512 connections for 10 s against one trigger (redeploy `sleep 1`, as in accept):
 * far more calls in flight than the store commits within the latency budget, so Deckhand
 * should answer the excess 503 at once. Reports calls/s answered 202, the 503s, p50/p99 of
 * all answers and socket errors; wrk counts the statuses (post.lua, BENCH_COUNT_STATUS).
 */
import {
  commandService,
  type LoadResult,
  removeDir,
  runWrk,
  serviceWithTrigger,
  type Settings,
  startDeckhand,
  tempDir,
  withCpu,
} from './lib.ts'

export const OVERLOAD_CONNECTIONS = 512
export const OVERLOAD_SECONDS = 10

export interface OverloadResult extends LoadResult {
  serverCpuUsPerCall: number
  acceptedPerSecond: number
  shed: number
  shedMetric: number
}

export async function benchOverload(settings: Settings): Promise<OverloadResult> {
  const dataDir = tempDir('overload')
  const deckhand = await startDeckhand(dataDir)
  try {
    const trigger = await serviceWithTrigger(deckhand, commandService('web', 'sleep 1'))
    const url = `${deckhand.url}${trigger.path}`
    await runWrk(url, { connections: settings.connections, seconds: settings.warmupSeconds })
    const load = await withCpu(deckhand.pid, () =>
      runWrk(
        url,
        { connections: OVERLOAD_CONNECTIONS, seconds: OVERLOAD_SECONDS },
        { BENCH_COUNT_STATUS: '1' },
      ),
    )
    const metrics = await (await fetch(`${deckhand.url}/metrics`)).text()
    const shedMetric = Number(/^deckhand_calls_shed_total (\d+)/m.exec(metrics)?.[1] ?? NaN)
    const accepted = load.statuses?.['202'] ?? 0
    return {
      ...load,
      acceptedPerSecond: Math.round(accepted / OVERLOAD_SECONDS),
      shed: load.statuses?.['503'] ?? 0,
      shedMetric,
    }
  } finally {
    await deckhand.stop()
    removeDir(dataDir)
  }
}
