import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import pino from 'pino'

import { freshPostgresUrl } from '../../test/support/postgres-cluster.ts'
import { EventBus } from '../events.ts'
import type { Deployment } from '../model/index.ts'
import { PostgresStore } from '../store/postgres/postgres-store.ts'
import { SqliteStore } from '../store/sqlite/sqlite-store.ts'
import type { Store } from '../store/store.ts'
import { intent, serviceInput } from '../store/store-contract.ts'
import { startApprovalSweeper } from './approval-sweeper.ts'

const HOUR_MS = 3_600_000
const logger = pino({ level: 'silent' })
/** Never fires within a test: sweeps are called by hand, on a clock the test sets. */
const NEVER_MS = 3_600_000

async function awaitingDeployment(store: Store): Promise<Deployment> {
  await store.createService(
    serviceInput('web', {
      deploy: {
        order: 'start-first',
        healthTimeoutMs: 60_000,
        pull: 'missing',
        rollback: true,
        approvals: { required: 2, deadlineMs: 24 * HOUR_MS },
      },
    }),
  )
  const call = {
    id: 'call_1',
    triggerId: null,
    sender: null,
    deliveryId: null,
    remoteAddress: null,
  }
  const accepted = await store.acceptCall(call, [intent('web')])
  const result = accepted.results[0]
  assert.equal(result?.kind, 'queued')
  assert.equal(result.deployment.state, 'awaiting-approval')
  return result.deployment
}

function finishedEvents(): { events: EventBus; finished: Deployment[] } {
  const events = new EventBus((error) => assert.fail(String(error)))
  const finished: Deployment[] = []
  events.on('deployment:finished', ({ deployment }) => {
    finished.push(deployment)
  })
  return { events, finished }
}

test('the sweeper cancels an awaiting deployment once its deadline passed, by its clock', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deckhand-sweep-'))
  const store = new SqliteStore(join(dir, 'store.db'))
  t.after(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await store.migrate()
  const d = await awaitingDeployment(store)
  let now = Date.parse(d.createdAt) + 24 * HOUR_MS - 1
  const { events, finished } = finishedEvents()
  const sweeper = startApprovalSweeper({
    store,
    events,
    logger,
    intervalMs: NEVER_MS,
    now: () => now,
  })
  t.after(() => sweeper.stop())
  assert.deepEqual(await sweeper.sweep(), [])
  assert.equal((await store.getDeployment(d.id))?.state, 'awaiting-approval')
  now += 1
  const [moved] = await sweeper.sweep()
  assert.equal(moved?.state, 'canceled')
  assert.equal(moved.error, 'approval deadline passed (24h)')
  assert.deepEqual(
    finished.map((f) => f.id),
    [d.id],
  )
  assert.deepEqual(await sweeper.sweep(), [])
})

test('two instances sweeping one PostgreSQL store at once cancel a deployment once', async (t) => {
  const url = await freshPostgresUrl()
  const stores = [new PostgresStore(url), new PostgresStore(url)]
  t.after(() => Promise.all(stores.map((s) => s.close())))
  await stores[0]!.migrate()
  const d = await awaitingDeployment(stores[0]!)
  const late = Date.parse(d.createdAt) + 25 * HOUR_MS
  const { events, finished } = finishedEvents()
  const sweepers = stores.map((store) =>
    startApprovalSweeper({ store, events, logger, intervalMs: NEVER_MS, now: () => late }),
  )
  t.after(() => Promise.all(sweepers.map((s) => s.stop())))
  const moved = (await Promise.all(sweepers.map((s) => s.sweep()))).flat()
  assert.deepEqual(
    moved.map((m) => [m.id, m.state]),
    [[d.id, 'canceled']],
  )
  assert.equal(finished.length, 1)
})
