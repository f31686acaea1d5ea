/** The retention part of the store contract (store-contract.ts runs it on every backend). */
import assert from 'node:assert/strict'

import type { Store } from './store.ts'
import { intent, serviceInput } from './store-contract.ts'

const HOUR_MS = 3_600_000
const inHours = (hours: number) => new Date(Date.now() + hours * HOUR_MS).toISOString()

async function recordCalls(store: Store, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    await store.recordCall({
      id: `call_${prefix}${i}`,
      triggerId: 'trg_1',
      sender: 'generic',
      deliveryId: null,
      remoteAddress: '127.0.0.1',
      outcome: 'rejected',
      status: 401,
      reason: 'bad signature',
    })
  }
}

const callIds = async (store: Store) =>
  (await store.listCalls({}, { limit: 1000 })).items.map((c) => c.id)

export function runPruneContract(
  withStore: (title: string, body: (store: Store) => Promise<void>) => void,
): void {
  withStore(
    'prune deletes the calls received before its time and keeps the newer ones',
    async (store) => {
      await recordCalls(store, 5, 'old')
      assert.deepEqual(await store.prune({ before: inHours(-1), keepCalls: 1000 }), {
        calls: 0,
        logLines: 0,
      })
      assert.equal((await callIds(store)).length, 5)
      assert.equal((await store.prune({ before: inHours(1), keepCalls: 1000 })).calls, 5)
      assert.deepEqual(await callIds(store), [])
    },
  )

  withStore(
    'prune keeps at most keepCalls calls, the newest, across several batches',
    async (store) => {
      await recordCalls(store, 2105, 'c')
      assert.equal((await store.prune({ before: inHours(-1), keepCalls: 3 })).calls, 2102)
      assert.deepEqual(await callIds(store), ['call_c2104', 'call_c2103', 'call_c2102'])
      assert.equal((await store.prune({ before: inHours(-1), keepCalls: 3 })).calls, 0)
    },
  )

  withStore(
    'prune deletes the log lines of deployments that ended before its time, never of one still running',
    async (store) => {
      await store.createService(serviceInput('web'))
      await store.createService(serviceInput('api'))
      const at = new Date().toISOString()
      await store.acceptCall(
        {
          id: 'call_p1',
          triggerId: 'trg_1',
          sender: 'generic',
          deliveryId: null,
          remoteAddress: '127.0.0.1',
        },
        [intent('web')],
      )
      const ended = (await store.claimNext('w1', 30_000))!
      await store.appendLog(ended.id, [
        { at, stream: 'stdout', line: 'one' },
        { at, stream: 'stdout', line: 'two' },
      ])
      assert.equal(await store.finishDeployment(ended.id, 'w1', { state: 'succeeded' }), true)
      await store.acceptCall(
        {
          id: 'call_p2',
          triggerId: 'trg_1',
          sender: 'generic',
          deliveryId: null,
          remoteAddress: '127.0.0.1',
        },
        [intent('api')],
      )
      const running = (await store.claimNext('w1', 30_000))!
      await store.appendLog(running.id, [{ at, stream: 'stdout', line: 'still here' }])

      assert.equal((await store.prune({ before: inHours(-1), keepCalls: 1000 })).logLines, 0)
      assert.equal((await store.readLog(ended.id, 0, 10)).length, 2)
      const pruned = await store.prune({ before: inHours(1), keepCalls: 1000 })
      assert.equal(pruned.logLines, 2)
      assert.deepEqual(await store.readLog(ended.id, 0, 10), [])
      assert.deepEqual(
        (await store.readLog(running.id, 0, 10)).map((l) => l.line),
        ['still here'],
      )
      assert.equal(
        (await store.getDeployment(ended.id))?.state,
        'succeeded',
        'the deployment itself stays',
      )

      // The running one ends later: the next prune still finds it, behind the ones already done.
      assert.equal(await store.finishDeployment(running.id, 'w1', { state: 'succeeded' }), true)
      assert.equal((await store.prune({ before: inHours(1), keepCalls: 1000 })).logLines, 1)
      assert.deepEqual(await store.readLog(running.id, 0, 10), [])
    },
  )
}
