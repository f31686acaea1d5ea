import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { DeploymentVote, Service } from '../model/index.ts'
import { approvalState, countVotes, votedChange } from './approvals.ts'
import { afterApproval, entryState } from './entry-state.ts'

const policy = { required: 2, deadlineMs: 3_600_000 }
const created = { createdAt: '2026-12-03T10:00:00.000Z' }
const vote = (
  name: string,
  v: 'approve' | 'reject',
  note: string | null = null,
): DeploymentVote => ({
  deploymentId: 'dpl_1',
  tokenId: `tok_${name}`,
  tokenName: name,
  vote: v,
  note,
  at: '2026-12-03T10:05:00.000Z',
})

test('votes: N approvals approve, one rejection cancels with its note, fewer wait', () => {
  assert.deepEqual(countVotes(policy, []), { kind: 'waiting', approvals: 0 })
  assert.deepEqual(countVotes(policy, [vote('a', 'approve')]), { kind: 'waiting', approvals: 1 })
  assert.deepEqual(countVotes(policy, [vote('a', 'approve'), vote('b', 'approve')]), {
    kind: 'approved',
  })
  assert.deepEqual(
    countVotes(policy, [vote('a', 'approve'), vote('b', 'approve'), vote('c', 'reject', 'no')]),
    { kind: 'canceled', reason: 'rejected by c: no' },
  )
  assert.deepEqual(countVotes(policy, [vote('c', 'reject')]), {
    kind: 'canceled',
    reason: 'rejected by c',
  })
})

test('the deadline cancels only what the votes left waiting, from the deployment creation', () => {
  const at = Date.parse(created.createdAt)
  assert.equal(approvalState(policy, created, [], at + 3_599_999).kind, 'waiting')
  assert.deepEqual(approvalState(policy, created, [], at + 3_600_000), {
    kind: 'canceled',
    reason: 'approval deadline passed (1h)',
  })
  const approved = [vote('a', 'approve'), vote('b', 'approve')]
  assert.equal(approvalState(policy, created, approved, at + 7_200_000).kind, 'approved')
})

test('a joining call resets the votes when it changes the tag or the environment, not otherwise', () => {
  const base = { params: { tag: '1' }, input: { env: { A: 'x' } } }
  assert.equal(votedChange(base, { params: { tag: '1' }, input: { env: { A: 'x' } } }), undefined)
  assert.equal(
    votedChange(base, { params: { tag: '2' }, input: { env: { A: 'x' } } }),
    'the tag changed from 1 to 2',
  )
  assert.equal(
    votedChange(base, { params: { tag: '1' }, input: { env: { A: 'secret-y' } } }),
    'the environment changed',
  )
  assert.equal(
    votedChange(base, { params: { tag: '1' }, input: { env: { A: 'x', B: '' } } }),
    'the environment changed',
  )
  assert.equal(
    votedChange({ params: {}, input: { env: {} } }, { params: { tag: '3' }, input: { env: {} } }),
    'the tag changed from (none) to 3',
  )
})

test('a service with deploy.approvals starts deployments awaiting approval; approved ones queue', () => {
  const deploy = {
    order: 'start-first',
    healthTimeoutMs: 1,
    pull: 'missing',
    rollback: true,
  } as const
  assert.equal(entryState({ deploy }, 0), 'queued')
  assert.equal(entryState({ deploy: { ...deploy, approvals: policy } }, 0), 'awaiting-approval')
  const approved = { deploy: { ...deploy, approvals: policy } } as Service
  assert.equal(afterApproval(approved, 0), 'queued')
  // Approved on a Saturday, a service that deploys Monday to Friday holds it.
  const weekdays = [{ days: 'mon-fri', hours: '09:00-17:00', timezone: 'Europe/Berlin' }]
  const saturday = Date.parse('2026-12-05T12:00:00Z')
  const windowed = { deploy: { ...deploy, approvals: policy, windows: weekdays } } as Service
  assert.equal(afterApproval(windowed, saturday), 'held')
  const frozen = { ...approved, freeze: { until: null, message: 'x', by: 'a', at: '' } } as Service
  assert.equal(afterApproval(frozen, saturday), 'held')
})
