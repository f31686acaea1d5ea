/** Waits for a new replica to prove it is ready: an HTTP 2xx, a TCP connect, or staying alive. */
import { request } from 'node:http'
import { connect } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

import { formatDuration } from '../../model/duration.ts'
import type { ProcessHealth } from './process-target.ts'
import { describeExit, type Replica } from './replica.ts'

export type HealthResult =
  { isHealthy: true; afterMs: number } | { isHealthy: false; reason: string }

const PROBE_INTERVAL_MS = 100
const PROBE_TIMEOUT_MS = 1000
// A probe cut shorter than this fails for lack of time, and would hide the real last problem.
const MIN_PROBE_MS = 50

/** Polls `health` until it passes, the replica exits, `timeoutMs` passes or `signal` aborts. */
export async function waitHealthy(
  replica: Replica,
  health: ProcessHealth,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HealthResult> {
  const started = Date.now()
  const deadline = started + timeoutMs
  let lastProblem: string | undefined
  for (;;) {
    if (signal.aborted) {
      return { isHealthy: false, reason: 'the deployment was canceled while waiting for health' }
    }
    if (replica.hasExited) {
      return {
        isHealthy: false,
        reason: `replica ${replica.index} ${describeExit(replica.exitInfo)} before it became healthy`,
      }
    }
    let waitMs = PROBE_INTERVAL_MS
    if (health.kind === 'runningFor') {
      const aliveForMs = Date.now() - replica.startedAtMs
      if (aliveForMs >= health.ms) {
        return { isHealthy: true, afterMs: Date.now() - started }
      }
      waitMs = health.ms - aliveForMs
    } else if (deadline - Date.now() >= MIN_PROBE_MS) {
      const port = replica.port ?? 0
      const remaining = Math.min(PROBE_TIMEOUT_MS, deadline - Date.now())
      lastProblem =
        health.kind === 'http'
          ? await probeHttp(port, health.path, remaining)
          : await probeTcp(port, remaining)
      if (lastProblem === undefined) {
        return { isHealthy: true, afterMs: Date.now() - started }
      }
    }
    if (Date.now() >= deadline) {
      const last = lastProblem === undefined ? '' : ` (last check: ${lastProblem})`
      return {
        isHealthy: false,
        reason: `replica ${replica.index} did not become healthy within ${formatDuration(timeoutMs)}${last}`,
      }
    }
    await waitOrExit(replica, Math.min(waitMs, Math.max(0, deadline - Date.now())), signal)
  }
}

/** Waits `ms`, ending early when the replica exits or `signal` aborts; leaves no timer behind. */
async function waitOrExit(replica: Replica, ms: number, signal: AbortSignal): Promise<void> {
  const done = new AbortController()
  try {
    await Promise.race([
      delay(ms, undefined, { signal: AbortSignal.any([signal, done.signal]) }).catch(() => {}),
      replica.exited(),
    ])
  } finally {
    done.abort()
  }
}

/** Undefined when GET answers 2xx, else what went wrong. */
function probeHttp(port: number, path: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method: 'GET',
      agent: false,
      timeout: timeoutMs,
    })
    req.on('response', (res) => {
      res.resume()
      const status = res.statusCode ?? 0
      resolve(
        status >= 200 && status < 300
          ? undefined
          : `GET ${path} on port ${port} answered ${status}`,
      )
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', (error: NodeJS.ErrnoException) => {
      resolve(`GET ${path} on port ${port} failed: ${error.code ?? error.message}`)
    })
    req.end()
  })
}

function probeTcp(port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no connection within ${timeoutMs} ms`)),
    )
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(`connect to 127.0.0.1:${port} failed: ${error.code ?? error.message}`)
    })
  })
}
