/**
 * end-to-end: call → `succeeded`, measured by the caller with `?wait=30s` (the answer comes
 * when the deployment ends), over sequential calls, for a `command` service running `true` and
 * a `process` service (one `sleep` replica, healthy once started: runningFor 0s, so the figure
 * is Deckhand's own work, not a health wait).
 */
import { request } from 'node:http'

import {
  commandService,
  quantile,
  removeDir,
  round,
  serviceWithTrigger,
  type Settings,
  startDeckhand,
  tempDir,
} from './lib.ts'

export interface EndToEndResult {
  calls: number
  medianMs: number
  p99Ms: number
  maxMs: number
  failures: number
}

export async function benchEndToEnd(
  settings: Settings,
): Promise<{ command: EndToEndResult; process: EndToEndResult }> {
  const calls = settings.quick ? 50 : 200
  const dataDir = tempDir('e2e')
  const deckhand = await startDeckhand(dataDir)
  try {
    const command = await serviceWithTrigger(deckhand, commandService('cmd', 'true'))
    const proc = await serviceWithTrigger(deckhand, {
      name: 'proc',
      driver: 'process',
      target: {
        command: 'exec sleep 3600',
        cwd: dataDir,
        health: { runningFor: '0s' },
        stopGrace: '2s',
      },
    })
    const commandResult = await sequential(`${deckhand.url}${command.path}?wait=30s`, calls)
    const processResult = await sequential(`${deckhand.url}${proc.path}?wait=30s`, calls)
    await deckhand.api('DELETE', '/api/v1/services/proc')
    return { command: commandResult, process: processResult }
  } finally {
    await deckhand.stop()
    removeDir(dataDir)
  }
}

async function sequential(url: string, calls: number): Promise<EndToEndResult> {
  const warmup = 5
  const times: number[] = []
  let failures = 0
  for (let i = 0; i < warmup + calls; i += 1) {
    const started = performance.now()
    const status = await post(url)
    const ms = performance.now() - started
    if (status !== 200) {
      failures += 1
    }
    if (i >= warmup) {
      times.push(ms)
    }
  }
  times.sort((a, b) => a - b)
  return {
    calls,
    medianMs: round(quantile(times, 0.5)),
    p99Ms: round(quantile(times, 0.99)),
    maxMs: round(times.at(-1) ?? NaN),
    failures,
  }
}

function post(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (response) => {
        response.resume()
        response.once('end', () => resolve(response.statusCode ?? 0))
      },
    )
    req.setTimeout(60_000, () => req.destroy(new Error('an end-to-end call took over 60 s')))
    req.once('error', reject)
    req.end('{"bench":"end-to-end"}')
  })
}
