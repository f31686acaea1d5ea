/**
 * Group commit: items submitted together share one commit and are answered in order, never
 * before their group is durable; a group waiting for the disk does not hold up the next one.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { GroupCommit } from './group-commit.ts'

test('items submitted in one turn share one commit and each gets its own answer', async () => {
  const groups: number[][] = []
  const group = new GroupCommit((items: number[]) => {
    groups.push(items)
    return items.map((n) =>
      n === 3
        ? { ok: false as const, error: new Error('three') }
        : { ok: true as const, value: n * 10 },
    )
  })
  const answers = await Promise.allSettled([1, 2, 3, 4].map((n) => group.submit(n)))
  assert.deepEqual(groups, [[1, 2, 3, 4]])
  assert.deepEqual(
    answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message)),
    [10, 20, 'three', 40],
  )
})

test('with `durable`, a committed group is answered only when its flush settles, and the next group commits meanwhile', async () => {
  const flushes: { resolve: () => void; reject: (error: Error) => void }[] = []
  const committed: number[][] = []
  const group = new GroupCommit(
    (items: number[]) => {
      committed.push(items)
      return items.map((n) => ({ ok: true as const, value: n }))
    },
    { durable: () => new Promise<void>((resolve, reject) => flushes.push({ resolve, reject })) },
  )
  let firstAnswered = false
  const first = group.submit(1).then((value) => {
    firstAnswered = true
    return value
  })
  await waitUntil(() => flushes.length === 1)
  const second = group.submit(2)
  await waitUntil(() => flushes.length === 2)
  assert.deepEqual(
    committed,
    [[1], [2]],
    'the second group committed while the first waited for the disk',
  )
  assert.equal(firstAnswered, false, 'not answered before its flush')
  flushes[0]!.resolve()
  assert.equal(await first, 1)
  flushes[1]!.reject(new Error('the disk failed'))
  await assert.rejects(second, /the disk failed/)
})

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!check()) {
    assert.ok(Date.now() < deadline, 'timed out')
    await new Promise((resolve) => setImmediate(resolve))
  }
}
