/** The registry-watch part of the store contract (store-contract.ts runs it on every backend). */
import assert from 'node:assert/strict'

import type { WatchCheck } from '../model/watch-check.ts'
import type { Store } from './store.ts'
import { serviceInput } from './store-contract.ts'

function check(service: string, overrides: Partial<WatchCheck> = {}): WatchCheck {
  return {
    service,
    checkedAt: '2026-01-01T00:00:00.000Z',
    nextAt: '2026-01-01T00:05:00.000Z',
    outcome: 'unchanged',
    answer: 'acme/web:latest is sha256:aaaa',
    tag: 'latest',
    digest: `sha256:${'a'.repeat(64)}`,
    etag: `"sha256:${'a'.repeat(64)}"`,
    ...overrides,
  }
}

export function runWatchContract(
  withStore: (title: string, body: (store: Store) => Promise<void>) => void,
): void {
  withStore('a service keeps its last watch check, which goes with the service', async (store) => {
    await store.createService(serviceInput('web'))
    assert.equal(await store.getWatchCheck('web'), undefined)
    await store.saveWatchCheck(check('web'))
    assert.deepEqual(await store.getWatchCheck('web'), check('web'))
    const later = check('web', {
      checkedAt: '2026-01-01T00:05:00.000Z',
      nextAt: null,
      outcome: 'failed',
      answer: 'registry answered 503',
      tag: null,
      digest: null,
      etag: null,
    })
    await store.saveWatchCheck(later)
    assert.deepEqual(await store.getWatchCheck('web'), later)
    // A check that ends after its service is gone keeps nothing, and deleting forgets it.
    await store.saveWatchCheck(check('gone'))
    assert.equal(await store.getWatchCheck('gone'), undefined)
    await store.deleteService('web')
    assert.equal(await store.getWatchCheck('web'), undefined)
    await store.createService(serviceInput('web'))
    assert.equal(await store.getWatchCheck('web'), undefined)
  })

  withStore('one owner holds the watch lease until it expires or is released', async (store) => {
    assert.equal(await store.takeWatchLease('a', 60_000), true)
    assert.equal(await store.takeWatchLease('b', 60_000), false)
    assert.equal(await store.takeWatchLease('a', 60_000), true, 'the holder renews')
    await store.releaseWatchLease('b')
    assert.equal(await store.takeWatchLease('b', 60_000), false, 'only the holder releases')
    await store.releaseWatchLease('a')
    // A lease of 0 ms has run out by the time anyone asks again.
    assert.equal(await store.takeWatchLease('b', 0), true)
    assert.equal(await store.takeWatchLease('a', 60_000), true)
    assert.equal(await store.takeWatchLease('b', 60_000), false)
  })
}
