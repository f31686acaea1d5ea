/** The activity log names a call's trigger, and a renamed trigger by its new name soon after. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { test } from 'node:test'

import pino from 'pino'

import { waitFor } from '../../test/support/wait-for.ts'
import { EventBus } from '../events.ts'
import type { Call, TriggerOptions } from '../model/index.ts'
import { SqliteStore } from '../store/sqlite/sqlite-store.ts'
import { serviceInput } from '../store/store-contract.ts'
import { logActivity, TRIGGER_NAME_TTL_MS } from './activity-log.ts'

test('a call line names the trigger, and after a rename its new name once the cached one is stale', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-activity-'))
  const store = new SqliteStore(join(dir, 'deckhand.db'))
  t.after(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await store.migrate()
  await store.createService(serviceInput('web'))
  const options: TriggerOptions = {
    name: 'ci',
    action: 'redeploy',
    by: 1,
    sender: 'auto',
    secret: null,
    allowIps: [],
    passBody: false,
    envFromQuery: [],
    secretEnvFromQuery: [],
    allowTag: true,
    reverseOnResolve: false,
    cooldownMs: 0,
    rateLimit: { count: 10, perMs: 60_000 },
  }
  await store.createTrigger({
    ...options,
    id: 'trg_a',
    service: 'web',
    stack: null,
    tokenHash: 'h',
  })
  const lines: string[] = []
  const sink = new Writable({
    write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()),
  })
  const events = new EventBus((error) => assert.fail(String(error)))
  let clock = 1_000_000
  logActivity(events, store, pino({ level: 'info' }, sink), () => clock)
  const call = (id: string): Call => ({
    id,
    triggerId: 'trg_a',
    sender: 'generic',
    outcome: 'ignored',
    status: 200,
    reason: 'nothing to do',
    deploymentIds: [],
    deliveryId: null,
    remoteAddress: '127.0.0.1',
    receivedAt: new Date().toISOString(),
  })
  const lineOf = async (id: string) => {
    events.emit('call:recorded', { call: call(id) })
    return waitFor(() => lines.find((line) => line.includes(id)), { what: `the line of ${id}` })
  }
  assert.match(await lineOf('call_1'), /trigger ci\)/)
  await store.updateTrigger('trg_a', { ...options, name: 'deploy' })
  clock += TRIGGER_NAME_TTL_MS - 1
  assert.match(await lineOf('call_2'), /trigger ci\)/, 'within the TTL the cached name is used')
  clock += 2
  assert.match(await lineOf('call_3'), /trigger deploy\)/)
})
