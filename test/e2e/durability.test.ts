/** Promises of PRODUCT.md section 9 that need a real process: kill -9 loses no accepted call. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { spawnServer } from '../support/spawn-server.ts'
import { waitFor } from '../support/wait-for.ts'

const TOKEN = 'durability-admin-token-0123456789abcdefghijk'

test('a kill -9 while calls stream in loses no call that got a 202', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'deckhand-durability-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = {
    DECKHAND_DATA_DIR: dataDir,
    DECKHAND_ADMIN_TOKEN: TOKEN,
    DECKHAND_LOG_LEVEL: 'warn',
  }
  const first = await spawnServer(env)
  const api = async (url: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return response.json() as Promise<any>
  }
  await api(first.url, 'POST', '/api/v1/services', {
    name: 'web',
    driver: 'command',
    target: { redeploy: 'true' },
  })
  const trigger = await api(first.url, 'POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    rateLimit: '100000/min',
  })
  const accepted: string[] = []
  let sent = 0
  let stop = false
  const sender = async () => {
    while (!stop) {
      const key = `delivery-${sent++}`
      try {
        const response = await fetch(trigger.url, {
          method: 'POST',
          headers: { 'idempotency-key': key },
          body: '{}',
        })
        if (response.status === 202) {
          accepted.push(key)
        }
        await response.arrayBuffer()
      } catch {
        // The server died mid-request: this call was not acknowledged, so it may be lost.
      }
    }
  }
  const senders = Array.from({ length: 8 }, sender)
  await waitFor(() => accepted.length >= 150, { timeoutMs: 30_000, what: '150 accepted calls' })
  first.child.kill('SIGKILL')
  await first.exited
  stop = true
  await Promise.all(senders)
  const restartedAt = new Date().toISOString()
  const second = await spawnServer(env)
  t.after(async () => {
    second.child.kill('SIGTERM')
    await second.exited
  })
  const recorded = new Set<string>()
  let cursor: string | null = null
  do {
    const page: any = await api(
      second.url,
      'GET',
      `/api/v1/calls?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
    )
    for (const call of page.items) {
      recorded.add(call.deliveryId)
    }
    cursor = page.next
  } while (cursor)
  const lost = accepted.filter((key) => !recorded.has(key))
  assert.deepEqual(lost, [], `${lost.length} of ${accepted.length} accepted calls were lost`)
  // The restarted server may already run the queued deployment; none may still run from before.
  const running = await api(second.url, 'GET', '/api/v1/deployments?state=running')
  const leftOver = running.items.filter((d: { startedAt: string }) => d.startedAt < restartedAt)
  assert.deepEqual(leftOver, [], 'no deployment is left marked running after a restart')
})
