/**
 * burst: 10,000 calls to one service's trigger as fast as 64 keep-alive connections send them
 * (a counted load, so node:http from this process rather than wrk's timed runs). The service's
 * redeploy (`sleep 30`) outlasts the burst, so coalescing should leave one running and one
 * queued deployment that every later call joined: at most 2 deployments, and every call recorded.
 */
import { Agent, request } from 'node:http'

import {
  commandService,
  type Deckhand,
  listAll,
  removeDir,
  round,
  serviceWithTrigger,
  type Settings,
  startDeckhand,
  tempDir,
} from './lib.ts'

export interface BurstResult {
  calls: number
  seconds: number
  callsPerSecond: number
  answers: Record<string, number>
  deploymentsCreated: number
  callsRecorded: number
}

const BODY = Buffer.from(
  JSON.stringify({
    ref: 'refs/heads/main',
    repository: { name: 'web', full_name: 'acme/web' },
    note: 'x'.repeat(900),
  }),
)

export async function benchBurst(settings: Settings, total = 10_000): Promise<BurstResult> {
  const dataDir = tempDir('burst')
  const deckhand = await startDeckhand(dataDir)
  try {
    const trigger = await serviceWithTrigger(deckhand, commandService('burst', 'sleep 30'))
    const started = performance.now()
    const answers = await send(deckhand, trigger.path, total, settings.connections)
    const seconds = (performance.now() - started) / 1000
    const deployments = await listAll(deckhand, '/api/v1/deployments?service=burst')
    const calls = await listAll(deckhand, `/api/v1/calls?trigger=${trigger.id}`)
    return {
      calls: total,
      seconds: round(seconds),
      callsPerSecond: Math.round(total / seconds),
      answers,
      deploymentsCreated: deployments.length,
      callsRecorded: calls.length,
    }
  } finally {
    await deckhand.stop()
    removeDir(dataDir)
  }
}

async function send(
  deckhand: Deckhand,
  path: string,
  total: number,
  connections: number,
): Promise<Record<string, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const { hostname, port } = new URL(deckhand.url)
  const answers: Record<string, number> = {}
  let next = 0
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          agent,
          hostname,
          port,
          path,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': BODY.length },
        },
        (response) => {
          response.resume()
          response.once('end', () => resolve(response.statusCode ?? 0))
        },
      )
      req.setTimeout(30_000, () => req.destroy(new Error('a burst call took over 30 s')))
      req.once('error', reject)
      req.end(BODY)
    })
  const lane = async () => {
    while (next < total) {
      next += 1
      const status = await one()
      answers[status] = (answers[status] ?? 0) + 1
    }
  }
  try {
    await Promise.all(Array.from({ length: connections }, lane))
  } finally {
    agent.destroy()
  }
  return answers
}
