// planScaleRun on its own: the base a scale step starts from, and the log line naming it.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { makeService } from '../drivers/driver-contract.ts'
import { planScaleRun } from './scale-base.ts'

const service = (replicas: number | null) =>
  makeService({ name: 'web', driver: 'process', target: {}, replicas, scale: { min: 1, max: 4 } })

test('a step starts from the count Deckhand last set, even when the runtime runs fewer', () => {
  assert.deepEqual(planScaleRun(service(2), { by: 1 }, { replicas: 1, ready: 1 }), {
    from: 2,
    to: 3,
    ready: 1,
    stepLine: 'scale +1: 2 → 3 (from the 2 replicas Deckhand last set; 1 runs now)',
  })
  assert.equal(
    planScaleRun(service(3), { by: -1 }, { replicas: 3, ready: 3 }).stepLine,
    'scale -1: 3 → 2 (from the 3 replicas Deckhand last set)',
  )
  assert.equal(
    planScaleRun(service(1), { by: 1 }, undefined).stepLine,
    'scale +1: 1 → 2 (from the 1 replica Deckhand last set)',
    'a driver that could not be asked leaves the recorded count as the base',
  )
})

test('a step on a service whose count Deckhand never set starts from what the runtime runs', () => {
  assert.deepEqual(planScaleRun(service(null), { by: 1 }, { replicas: 2, ready: 2 }), {
    from: 2,
    to: 3,
    ready: 2,
    stepLine: 'scale +1: 2 → 3 (from the 2 replicas the runtime runs; Deckhand has set no count)',
  })
  assert.equal(
    planScaleRun(service(null), { by: 1 }, { replicas: null, ready: null }).stepLine,
    'scale +1: 1 → 2 (from scale.min (1); Deckhand has set no count and the runtime gives none)',
  )
})

test('a step past a bound says where it was held; steps that cancel out say so', () => {
  assert.equal(
    planScaleRun(service(3), { by: 5 }, undefined).stepLine,
    'scale +5: 3 → 4 (from the 3 replicas Deckhand last set, held at scale.max 4)',
  )
  assert.equal(
    planScaleRun(service(2), { by: -3 }, undefined).stepLine,
    'scale -3: 2 → 1 (from the 2 replicas Deckhand last set, held at scale.min 1)',
  )
  assert.equal(
    planScaleRun(service(2), { by: 0 }, undefined).stepLine,
    'scale steps that cancel out: 2 → 2 (from the 2 replicas Deckhand last set)',
  )
})

test('an absolute count is no step: it sets the count and logs no step line', () => {
  assert.deepEqual(planScaleRun(service(2), { replicas: 4 }, { replicas: 1, ready: 1 }), {
    from: 2,
    to: 4,
    ready: 1,
  })
})
