import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'

import { isRequired, skipOrFail } from './required-parts.ts'

test('a missing part skips out loud unless DECKHAND_TEST_REQUIRE names it, then it fails the test', (t) => {
  const saved = process.env.DECKHAND_TEST_REQUIRE
  t.after(() => {
    if (saved === undefined) {
      delete process.env.DECKHAND_TEST_REQUIRE
    } else {
      process.env.DECKHAND_TEST_REQUIRE = saved
    }
  })
  const skipped: string[] = []
  const context = {
    name: 'a test',
    skip: (reason: string) => skipped.push(reason),
  } as unknown as TestContext
  process.env.DECKHAND_TEST_REQUIRE = 'docker, Mount'
  assert.equal(isRequired('mount'), true)
  assert.equal(isRequired('browser'), false)
  assert.throws(
    () => skipOrFail(context, 'mount', 'no root'),
    /DECKHAND_TEST_REQUIRE includes mount, but no root/,
  )
  assert.deepEqual(skipped, [])
  skipOrFail(context, 'browser', 'no chromium')
  assert.deepEqual(skipped, ['no chromium'])
})
