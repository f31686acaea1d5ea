/** Ids name their kind, are unique, and sort by creation so indexes take new ones at their end. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { newId } from './ids.ts'

test('ids carry their prefix and 22 hex digits, and 100,000 of them are all different', () => {
  const ids = Array.from({ length: 100_000 }, () => newId('call'))
  for (const id of ids.slice(0, 100)) {
    assert.match(id, /^call_[0-9a-f]{22}$/)
  }
  assert.equal(new Set(ids).size, ids.length)
})

test('an id made in a later millisecond sorts after every id made before it', async () => {
  const before = Array.from({ length: 1000 }, () => newId('dpl'))
  const start = Date.now()
  while (Date.now() === start) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  const later = newId('dpl')
  assert.ok(before.every((id) => id < later))
})
