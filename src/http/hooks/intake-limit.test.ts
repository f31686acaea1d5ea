/**
 * The intake's bound on calls in flight, on a clock the test drives: it starts at the floor,
 * follows budget × the rate calls complete at, and falls back to the floor when nothing does.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { CEILING, FLOOR, IntakeLimit, LATENCY_BUDGET_MS } from './intake-limit.ts'

function clocked(): { limit: IntakeLimit; advance: (ms: number) => void } {
  let now = 0
  return { limit: new IntakeLimit({ now: () => now }), advance: (ms) => (now += ms) }
}

/** For `ms` milliseconds, `perMs` calls each millisecond are admitted and completed. */
function flow(clock: ReturnType<typeof clocked>, perMs: number, ms: number): void {
  for (let i = 0; i < ms; i++) {
    for (let n = 0; n < perMs; n++) {
      assert.ok(clock.limit.tryEnter(), 'a call under the bound is admitted')
      clock.limit.leave()
    }
    clock.advance(1)
  }
}

test('a fresh bound admits the floor, sheds the next call, and a completed call frees its slot', () => {
  const { limit } = clocked()
  for (let n = 0; n < FLOOR; n++) {
    assert.ok(limit.tryEnter())
  }
  assert.equal(limit.tryEnter(), false)
  assert.equal(limit.inFlight, FLOOR, 'a shed call takes no slot')
  limit.leave()
  assert.ok(limit.tryEnter())
})

test('the bound follows the completion rate times the latency budget', () => {
  const clock = clocked()
  flow(clock, 20, 2_000)
  assert.equal(clock.limit.limit, 20 * LATENCY_BUDGET_MS)
  flow(clock, 40, 2_000)
  assert.equal(clock.limit.limit, 40 * LATENCY_BUDGET_MS, 'a faster store admits more')
})

test('the bound stays within its ceiling, and falls to the floor when nothing completes', () => {
  const clock = clocked()
  flow(clock, 200, 2_000)
  assert.equal(clock.limit.limit, CEILING)
  let admitted = 0
  for (let i = 0; i < 2_000; i++) {
    admitted += clock.limit.tryEnter() ? 1 : 0
    clock.advance(1)
  }
  assert.equal(clock.limit.limit, FLOOR)
  assert.ok(admitted < CEILING + FLOOR, `a stalled store stopped admitting (${admitted} admitted)`)
})
