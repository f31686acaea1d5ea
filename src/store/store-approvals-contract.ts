/** The approvals part of the store contract (store-contract.ts runs it on every backend). */
import assert from 'node:assert/strict'

import type { Deployment, DeploymentVote } from '../model/index.ts'
import type { VoteMove } from './approvals-store.ts'
import type { Store } from './store.ts'
import { intent, serviceInput } from './store-contract.ts'

const approvals = { required: 2, deadlineMs: 3_600_000 }

let callNumber = 0
const call = () => ({
  id: `call_vote${++callNumber}`,
  triggerId: 'trg_1',
  sender: 'generic',
  deliveryId: null,
  remoteAddress: '127.0.0.1',
})

/** Two approvals queue it, one rejection cancels it: the rule the API applies, for the tests. */
function twoApprovals(_d: Deployment, votes: readonly DeploymentVote[]): VoteMove | undefined {
  if (votes.some((v) => v.vote === 'reject')) {
    return { to: 'canceled', error: 'rejected' }
  }
  return votes.length >= 2 ? { to: 'queued' } : undefined
}

async function awaiting(store: Store, tag = '1'): Promise<Deployment> {
  await store.createService(
    serviceInput('web', {
      deploy: {
        order: 'start-first',
        healthTimeoutMs: 60_000,
        pull: 'missing',
        rollback: true,
        approvals,
      },
    }),
  )
  const accepted = await store.acceptCall(call(), [intent('web', { params: { tag } })])
  const result = accepted.results[0]
  assert.equal(result?.kind, 'queued')
  assert.equal(result.deployment.state, 'awaiting-approval')
  return result.deployment
}

const vote = (deploymentId: string, token: string, v: 'approve' | 'reject' = 'approve') => ({
  deploymentId,
  tokenId: `tok_${token}`,
  tokenName: token,
  vote: v,
  note: `${v} by ${token}`,
})

export function runApprovalsContract(
  withStore: (title: string, body: (store: Store) => Promise<void>) => void,
): void {
  withStore(
    'a deployment of a service with approvals awaits them; one vote per token; the last moves it',
    async (store) => {
      const d = await awaiting(store)
      assert.equal(await store.claimNext('w1', 30_000), undefined)
      const first = await store.castVote(vote(d.id, 'alice'), twoApprovals)
      assert.equal(first.kind, 'recorded')
      assert.equal(first.kind === 'recorded' && first.deployment.state, 'awaiting-approval')
      const again = await store.castVote(vote(d.id, 'alice', 'reject'), twoApprovals)
      assert.equal(again.kind, 'duplicate')
      assert.equal(again.kind === 'duplicate' && again.previous.vote, 'approve')
      const second = await store.castVote(vote(d.id, 'bob'), twoApprovals)
      assert.equal(second.kind === 'recorded' && second.deployment.state, 'queued')
      const votes = await store.listVotes(d.id)
      assert.deepEqual(
        votes.map((v) => [v.tokenName, v.vote, v.note]),
        [
          ['alice', 'approve', 'approve by alice'],
          ['bob', 'approve', 'approve by bob'],
        ],
      )
      assert.ok(votes.every((v) => !Number.isNaN(Date.parse(v.at))))
      const late = await store.castVote(vote(d.id, 'carol'), twoApprovals)
      assert.equal(late.kind, 'not-awaiting')
      assert.equal(late.kind === 'not-awaiting' && late.deployment?.state, 'queued')
      assert.equal((await store.claimNext('w1', 30_000))?.id, d.id)
      const unknown = await store.castVote(vote('dpl_nope', 'alice'), twoApprovals)
      assert.deepEqual(unknown, { kind: 'not-awaiting', deployment: undefined })
    },
  )

  withStore('a rejection cancels an awaiting deployment with its error', async (store) => {
    const d = await awaiting(store)
    const rejected = await store.castVote(vote(d.id, 'alice', 'reject'), twoApprovals)
    assert.equal(rejected.kind === 'recorded' && rejected.deployment.state, 'canceled')
    const stored = await store.getDeployment(d.id)
    assert.equal(stored?.error, 'rejected')
    assert.ok(stored.finishedAt)
  })

  withStore('two approvals cast at once are both counted and move it once', async (store) => {
    const d = await awaiting(store)
    const moves: string[] = []
    const counting = (deployment: Deployment, votes: readonly DeploymentVote[]) => {
      const move = twoApprovals(deployment, votes)
      if (move) {
        moves.push(move.to)
      }
      return move
    }
    const both = await Promise.all([
      store.castVote(vote(d.id, 'alice'), counting),
      store.castVote(vote(d.id, 'bob'), counting),
    ])
    assert.deepEqual(
      both.map((r) => r.kind),
      ['recorded', 'recorded'],
    )
    assert.deepEqual(moves, ['queued'])
    assert.equal((await store.getDeployment(d.id))?.state, 'queued')
  })

  withStore(
    'a joining call that changes the tag drops the votes and logs it; the same tag keeps them',
    async (store) => {
      const d = await awaiting(store, '1')
      await store.castVote(vote(d.id, 'alice'), twoApprovals)
      const same = await store.acceptCall(call(), [intent('web', { params: { tag: '1' } })])
      assert.equal(same.results[0]?.kind, 'coalesced')
      assert.equal((await store.listVotes(d.id)).length, 1)
      const changed = await store.acceptCall(call(), [intent('web', { params: { tag: '2' } })])
      assert.equal(changed.results[0]?.kind, 'coalesced')
      assert.deepEqual(await store.listVotes(d.id), [])
      const stored = await store.getDeployment(d.id)
      assert.equal(stored?.state, 'awaiting-approval')
      assert.equal(stored.params.tag, '2')
      const log = (await store.readLog(d.id, 0, 100)).map((l) => l.line)
      assert.deepEqual(log, [
        'the tag changed from 1 to 2 while awaiting approval: 1 vote dropped, approvals start over',
      ])
      const env = intent('web', { params: { tag: '2' } })
      env.input = { ...env.input, env: { SERVICE_TAG: 'x' } }
      await store.castVote(vote(d.id, 'bob'), twoApprovals)
      await store.acceptCall(call(), [env])
      assert.deepEqual(await store.listVotes(d.id), [])
      assert.match((await store.readLog(d.id, 1, 100))[0]?.line ?? '', /environment changed/)
    },
  )
}
