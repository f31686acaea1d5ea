// planJoin on its own: which scale requests start a deployment, join one, or have nothing to do.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { Service } from '../model/index.ts'
import { planJoin } from './plan-join.ts'

const service = (replicas: number | null): Service => ({
  name: 'web',
  driver: 'command',
  target: {},
  image: null,
  tag: null,
  git: null,
  scale: { min: 1, max: 5 },
  tagPolicy: 'all',
  deploy: { order: 'start-first', healthTimeoutMs: 60_000, pull: 'missing', rollback: true },
  replicas,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
})

test('scaling to the count a service already runs has nothing to do', () => {
  assert.deepEqual(planJoin(service(3), undefined, { action: 'scale', params: { replicas: 3 } }), {
    kind: 'ignored',
    reason: 'service web already runs 3 replicas',
  })
  // Clamped first: 9 on a service at its scale.max of 5 is 5.
  assert.equal(
    planJoin(service(5), undefined, { action: 'scale', params: { replicas: 9 } }).kind,
    'ignored',
  )
})

test('scaling to another count, to a count while a scale is queued, or when the count is unknown queues it', () => {
  assert.deepEqual(planJoin(service(3), undefined, { action: 'scale', params: { replicas: 4 } }), {
    kind: 'new',
    params: { replicas: 4 },
  })
  // The queued deployment would change the count: setting it back to 3 must replace that, not be dropped.
  assert.deepEqual(
    planJoin(service(3), { params: { replicas: 5 } }, { action: 'scale', params: { replicas: 3 } }),
    {
      kind: 'join',
      params: { replicas: 3 },
    },
  )
  assert.deepEqual(
    planJoin(service(null), undefined, { action: 'scale', params: { replicas: 3 } }),
    { kind: 'new', params: { replicas: 3 } },
  )
})

test('a count the row records but the runtime does not run queues a scale that converges on it', () => {
  const intent = { action: 'scale' as const, params: { replicas: 3 } }
  assert.deepEqual(planJoin(service(3), undefined, { ...intent, running: 2 }), {
    kind: 'new',
    params: { replicas: 3 },
  })
  assert.equal(planJoin(service(3), undefined, { ...intent, running: 3 }).kind, 'ignored')
})
