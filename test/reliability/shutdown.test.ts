// Promise: no accepted call is lost, even when SIGTERM lands in the middle of a stream of calls.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { type SpawnedServer, spawnServer } from '../support/spawn-server.ts'
import { waitFor } from '../support/wait-for.ts'

const TOKEN = 'shutdown-admin-token-0123456789abcdefghijklm'
const FINAL = ['succeeded', 'failed', 'canceled']

const api = async (url: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await response.json()) as any
}

async function everything(url: string, resource: string): Promise<any[]> {
  const items: any[] = []
  let cursor: string | null = null
  do {
    const page: any = await api(
      url,
      'GET',
      `/api/v1/${resource}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
    )
    items.push(...page.items)
    cursor = page.next
  } while (cursor)
  return items
}

describe('promise: no accepted call is lost', () => {
  it('SIGTERM during a stream of calls: every 202 is recorded, every other call was refused, and no deployment is left running', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-sigterm-'))
    t.after(() => rmSync(dataDir, { recursive: true, force: true }))
    const env = {
      DECKHAND_DATA_DIR: dataDir,
      DECKHAND_ADMIN_TOKEN: TOKEN,
      DECKHAND_LOG_LEVEL: 'warn',
      DECKHAND_SHUTDOWN_GRACE_MS: '1000',
    }
    const servers: SpawnedServer[] = []
    t.after(async () => {
      for (const server of servers.filter((s) => s.child.exitCode === null)) {
        server.child.kill('SIGKILL')
        await server.exited
      }
    })
    const first = await spawnServer(env)
    servers.push(first)
    // A quick service and one whose deployment is still running when SIGTERM comes.
    await api(first.url, 'POST', '/api/v1/services', {
      name: 'web',
      driver: 'command',
      target: { redeploy: 'sleep 0.2' },
    })
    await api(first.url, 'POST', '/api/v1/services', {
      name: 'slow',
      driver: 'command',
      target: { redeploy: 'sleep 30' },
    })
    const trigger = await api(first.url, 'POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
      rateLimit: '100000/min',
    })
    const slow = (await api(first.url, 'POST', '/api/v1/services/slow/deployments', {}))
      .deployments[0].id
    await waitFor(
      async () => (await api(first.url, 'GET', `/api/v1/deployments/${slow}`)).state === 'running',
    )

    const accepted = new Map<string, string[]>()
    const refused = new Map<string, number>()
    let failed = 0
    let sent = 0
    let stop = false
    const sender = async () => {
      while (!stop) {
        const key = `call-${sent++}`
        try {
          const response = await fetch(trigger.url, {
            method: 'POST',
            headers: { 'idempotency-key': key },
            body: '{}',
          })
          const body = (await response.json().catch(() => undefined)) as
            { deployments?: { id: string }[] } | undefined
          if (response.status === 202) {
            accepted.set(
              key,
              (body?.deployments ?? []).map((d) => d.id),
            )
          } else {
            refused.set(key, response.status)
          }
        } catch {
          // Refused or reset while Deckhand stops: not acknowledged, so the sender retries later.
          failed += 1
        }
      }
    }
    const senders = Array.from({ length: 6 }, sender)
    await waitFor(() => accepted.size >= 60, { timeoutMs: 30_000, what: '60 accepted calls' })
    first.child.kill('SIGTERM')
    // Calls keep coming while it stops, until the connections are refused for a while.
    await waitFor(() => failed >= 30, {
      timeoutMs: 30_000,
      what: 'calls to be refused after SIGTERM',
    })
    stop = true
    await Promise.all(senders)
    assert.equal(await first.exited, 0, 'a clean exit')

    // Anything but 202 while stopping is a refusal the sender retries: Fastify answers 503 on
    // connections it is closing.
    assert.deepEqual(
      [...new Set(refused.values())].filter((s) => s !== 503),
      [],
      'no other answer while stopping',
    )

    const second = await spawnServer(env)
    servers.push(second)
    const calls = await everything(second.url, 'calls')
    const recorded = new Map(calls.map((c) => [c.deliveryId as string, c]))
    const lost = [...accepted.keys()].filter((key) => !recorded.has(key))
    assert.deepEqual(
      lost,
      [],
      `every 202 is recorded (${accepted.size} accepted, ${failed} refused)`,
    )
    for (const key of refused.keys()) {
      assert.equal(
        recorded.has(key),
        false,
        `${key} was answered ${refused.get(key)} and not recorded`,
      )
    }
    // Each accepted call's deployment exists; queued ones run now, and none stays running.
    const ids = new Set([...accepted.values()].flat())
    await waitFor(
      async () => {
        const deployments = await everything(second.url, 'deployments')
        const known = new Set(deployments.map((d) => d.id))
        return (
          [...ids].every((id) => known.has(id)) && deployments.every((d) => FINAL.includes(d.state))
        )
      },
      { timeoutMs: 30_000, what: 'every deployment to reach a final state after the restart' },
    )
    const interrupted = await api(second.url, 'GET', `/api/v1/deployments/${slow}`)
    assert.equal(interrupted.state, 'failed')
    assert.match(interrupted.error, /interrupted/)
  })
})
