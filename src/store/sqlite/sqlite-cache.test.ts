/**
 * The SQLite store's in-memory trigger and service cache never outlives a change: through this
 * store (revoke, rotate, update, delete, a finished deployment) the very next lookup sees it;
 * through another connection to the same file, a lookup soon after. Lookups here always hit a warm cache first.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { waitFor } from '../../../test/support/wait-for.ts'
import type { TriggerOptions } from '../../model/index.ts'
import { intent, serviceInput } from '../store-contract.ts'
import { CHECK_OTHERS_MS } from './sqlite-cache.ts'
import { SqliteStore } from './sqlite-store.ts'

const dir = mkdtempSync(join(tmpdir(), 'deckhand-sqlite-cache-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

const options: TriggerOptions = {
  name: 't',
  action: 'redeploy',
  by: 1,
  sender: 'auto',
  secret: null,
  allowIps: [],
  passBody: true,
  envFromQuery: [],
  secretEnvFromQuery: [],
  allowTag: true,
  reverseOnResolve: false,
  cooldownMs: 60_000,
  rateLimit: { count: 600, perMs: 60_000 },
}

async function open(file = join(dir, `cache-${++n}.db`)): Promise<SqliteStore> {
  const store = new SqliteStore(file)
  await store.migrate()
  return store
}

test('a cached trigger is gone on the next lookup after revoke, rotate or its service being deleted', async (t) => {
  const store = await open()
  t.after(() => store.close())
  await store.createService(serviceInput('web'))
  await store.createTrigger({
    ...options,
    id: 'trg_a',
    service: 'web',
    stack: null,
    tokenHash: 'h1',
  })
  await store.createTrigger({
    ...options,
    name: 't-2',
    id: 'trg_b',
    service: 'web',
    stack: null,
    tokenHash: 'h3',
  })
  assert.equal((await store.findTriggerByTokenHash('h1'))?.id, 'trg_a')
  assert.equal((await store.findTriggerByTokenHash('h1'))?.id, 'trg_a', 'served from the cache')
  await store.rotateTrigger('trg_a', 'h2')
  assert.equal(await store.findTriggerByTokenHash('h1'), undefined)
  assert.equal((await store.findTriggerByTokenHash('h2'))?.id, 'trg_a')
  await store.revokeTrigger('trg_a')
  assert.equal(await store.findTriggerByTokenHash('h2'), undefined)
  assert.equal((await store.findTriggerByTokenHash('h3'))?.id, 'trg_b')
  await store.deleteService('web')
  assert.equal(await store.findTriggerByTokenHash('h3'), undefined)
})

test('a cached trigger shows its updated options at once', async (t) => {
  const store = await open()
  t.after(() => store.close())
  await store.createService(serviceInput('web'))
  await store.createTrigger({
    ...options,
    id: 'trg_a',
    service: 'web',
    stack: null,
    tokenHash: 'h1',
  })
  assert.equal((await store.findTriggerByTokenHash('h1'))?.rateLimit.count, 600)
  await store.updateTrigger('trg_a', { ...options, rateLimit: { count: 5, perMs: 1000 } })
  assert.equal((await store.findTriggerByTokenHash('h1'))?.rateLimit.count, 5)
})

test('a cached service shows a replace, a new state and a finished deployment at once, and a cached object cannot be changed', async (t) => {
  const store = await open()
  t.after(() => store.close())
  await store.createService(serviceInput('web', { scale: { min: 1, max: 3 } }))
  const cached = await store.getService('web')
  assert.equal(cached?.scale.max, 3)
  assert.throws(() => {
    ;(cached as { scale: { max: number } }).scale.max = 99
  }, TypeError)
  await store.replaceService(serviceInput('web', { scale: { min: 1, max: 9 } }))
  assert.equal((await store.getService('web'))?.scale.max, 9)
  await store.setServiceState('web', { replicas: 2 })
  assert.equal((await store.getService('web'))?.replicas, 2)
  await store.acceptCall(
    {
      id: 'call_1',
      triggerId: 'trg_a',
      sender: 'generic',
      deliveryId: null,
      remoteAddress: '127.0.0.1',
      reason: null,
    },
    [intent('web', { params: { tag: 'v2' } })],
  )
  const running = await store.claimNext('me', 30_000)
  assert.ok(running)
  assert.equal((await store.getService('web'))?.tag, null, 'the cache holds the service')
  // The finish is committed, and readable, before its flush settles: a reader then must not
  // get the cached service (a deployment already shown succeeded, the service's old tag).
  const finished = store.finishDeployment(running.id, 'me', { state: 'succeeded', tag: 'v2' })
  assert.equal((await store.getDeployment(running.id))?.state, 'succeeded')
  assert.equal((await store.getService('web'))?.tag, 'v2')
  assert.equal(await finished, true)
  await store.deleteService('web')
  assert.equal(await store.getService('web'), undefined)
})

test('a revoke by another connection to the same file is seen within CHECK_OTHERS_MS, not only after a restart', async (t) => {
  const file = join(dir, 'shared.db')
  const serving = await open(file)
  const other = await open(file)
  t.after(async () => {
    await serving.close()
    await other.close()
  })
  await serving.createService(serviceInput('web'))
  await serving.createTrigger({
    ...options,
    id: 'trg_a',
    service: 'web',
    stack: null,
    tokenHash: 'h1',
  })
  assert.equal((await serving.findTriggerByTokenHash('h1'))?.id, 'trg_a')
  assert.equal(await other.revokeTrigger('trg_a'), true)
  await waitFor(async () => (await serving.findTriggerByTokenHash('h1')) === undefined, {
    timeoutMs: 20 * CHECK_OTHERS_MS,
    what: 'the revoke by the other connection',
  })
})
