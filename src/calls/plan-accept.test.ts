// planAccept as a table: from the facts a transaction read to the rows it writes and the answer.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { AcceptOptions, CallInput, DeploymentIntent } from '../model/call-accept.ts'
import type { Call, Deployment, DeploymentAction, Service } from '../model/index.ts'
import { type AcceptFacts, planAccept, queueKey } from './plan-accept.ts'

const AT = '2026-03-01T12:00:00.000Z'
const call: CallInput = {
  id: 'call_new',
  triggerId: 'trg_1',
  sender: 'generic',
  deliveryId: null,
  remoteAddress: null,
}
const input = {
  triggerName: 'deploy',
  env: {},
  body: null,
  bodyTooLarge: false,
  gitCommit: null,
  gitBranch: null,
}

const service = (name: string, replicas: number | null = 2): Service => ({
  name,
  driver: 'docker',
  target: {},
  image: null,
  tag: null,
  git: null,
  scale: { min: 1, max: 3 },
  tagPolicy: 'all',
  deploy: { order: 'start-first', healthTimeoutMs: 60_000, pull: 'missing', rollback: true },
  replicas,
  createdAt: AT,
  updatedAt: AT,
})

type Params = Deployment['params']

const intent = (name: string, action: DeploymentAction, params: Params): DeploymentIntent => ({
  service: name,
  action,
  params,
  input: { ...input, body: `for ${name}` },
  triggerId: 'trg_1',
})

const queued = (name: string, action: DeploymentAction, params: Params, calls = 1): Deployment => ({
  id: `dpl_${name}_queued`,
  service: name,
  action,
  state: 'queued',
  params,
  input,
  calls,
  triggerId: 'trg_1',
  createdAt: '2026-03-01T11:59:00.000Z',
  startedAt: null,
  finishedAt: null,
  error: null,
  image: null,
  digest: null,
  owner: null,
  leaseExpiresAt: null,
  cancelRequested: false,
})

const first: Call = {
  ...call,
  id: 'call_first',
  deliveryId: 'd-1',
  outcome: 'queued',
  status: 202,
  reason: null,
  deploymentIds: ['dpl_first'],
  receivedAt: '2026-03-01T11:00:00.000Z',
}

interface Case {
  name: string
  intents: DeploymentIntent[]
  options?: AcceptOptions
  facts?: Partial<Omit<AcceptFacts, 'queued'>> & { queued?: Deployment[] }
  /** The call as recorded: `outcome status reason`. */
  call: string
  /** Each intent's result: `kind service params calls` or `ignored service reason`. */
  results: string[]
  inserts?: string[]
  joins?: string[]
  deploymentIds?: string[]
}

const cases: Case[] = [
  {
    name: 'nothing queued: the intent queues a new deployment',
    intents: [intent('web', 'redeploy', { tag: 'v2' })],
    call: 'queued 202 null',
    results: ['queued web {"tag":"v2"} 1'],
    inserts: ['dpl_1 web redeploy {"tag":"v2"} 1'],
    deploymentIds: ['dpl_1'],
  },
  {
    name: 'a redeploy queued for the service: the call joins it, the newest tag and input win',
    intents: [intent('web', 'redeploy', { tag: 'v3' })],
    facts: { queued: [queued('web', 'redeploy', { tag: 'v2' }, 2)] },
    call: 'coalesced 202 null',
    results: ['coalesced web {"tag":"v3"} 3'],
    joins: ['dpl_web_queued web redeploy {"tag":"v3"} 3'],
    deploymentIds: ['dpl_web_queued'],
  },
  {
    name: 'a queued deployment of another action is not joined',
    intents: [intent('web', 'scale', { by: 1 })],
    facts: { queued: [queued('web', 'redeploy', { tag: 'v2' })] },
    call: 'queued 202 null',
    results: ['queued web {"by":1} 1'],
    inserts: ['dpl_1 web scale {"by":1} 1'],
  },
  {
    name: 'a scale step at scale.max has nothing to do',
    intents: [intent('web', 'scale', { by: 1 })],
    facts: { services: new Map([['web', service('web', 3)]]) },
    call: 'ignored 200 service web is already at scale.max (3)',
    results: ['ignored web service web is already at scale.max (3)'],
  },
  {
    name: 'a service that is gone is named in the reason',
    intents: [intent('gone', 'redeploy', {})],
    call: 'ignored 200 service gone does not exist',
    results: ['ignored gone service gone does not exist'],
  },
  {
    name: "a redelivery is its first call's duplicate and writes no deployment",
    intents: [intent('web', 'redeploy', {})],
    options: { deliverySince: '2026-02-28T12:00:00.000Z' },
    facts: { firstOfDelivery: first },
    call: 'duplicate 202 redelivery of call call_first',
    results: [],
    deploymentIds: ['dpl_first'],
  },
  {
    name: 'a step within the cooldown is ignored',
    intents: [intent('web', 'scale', { by: 1 })],
    options: { cooldownMs: 60_000 },
    facts: { sinceLastStepMs: 59_999 },
    call: 'ignored 200 cooldown: the last scale step was less than 60s ago',
    results: [],
  },
  {
    name: 'a step after the cooldown queues',
    intents: [intent('web', 'scale', { by: 1 })],
    options: { cooldownMs: 60_000 },
    facts: { sinceLastStepMs: 60_000 },
    call: 'queued 202 null',
    results: ['queued web {"by":1} 1'],
  },
  {
    name: 'a time since the last step means nothing without a cooldown',
    intents: [intent('web', 'scale', { by: 1 })],
    facts: { sinceLastStepMs: 5 },
    call: 'queued 202 null',
    results: ['queued web {"by":1} 1'],
  },
  {
    name: 'two intents of one key in one call: the second joins the row the first inserts',
    intents: [intent('web', 'redeploy', { tag: 'v2' }), intent('web', 'redeploy', { tag: 'v3' })],
    call: 'queued 202 null',
    results: ['queued web {"tag":"v2"} 1', 'coalesced web {"tag":"v3"} 2'],
    inserts: ['dpl_1 web redeploy {"tag":"v3"} 2'],
    deploymentIds: ['dpl_1'],
  },
  {
    name: 'a stack call: one service queues, one joins, one is gone',
    intents: ['web', 'api', 'gone'].map((name) => intent(name, 'redeploy', {})),
    facts: { queued: [queued('api', 'redeploy', {})] },
    call: 'queued 202 null',
    results: ['queued web {} 1', 'coalesced api {} 2', 'ignored gone service gone does not exist'],
    inserts: ['dpl_1 web redeploy {} 1'],
    joins: ['dpl_api_queued api redeploy {} 2'],
  },
]

const row = (d: Deployment): string =>
  `${d.id} ${d.service} ${d.action} ${JSON.stringify(d.params)} ${d.calls}`

for (const c of cases) {
  test(`planAccept: ${c.name}`, () => {
    let ids = 0
    const facts: AcceptFacts = {
      firstOfDelivery: undefined,
      sinceLastStepMs: undefined,
      services: new Map([
        ['web', service('web')],
        ['api', service('api')],
      ]),
      at: AT,
      ...c.facts,
      queued: new Map((c.facts?.queued ?? []).map((d) => [queueKey(d.service, d.action), d])),
    }
    const item = { call, intents: c.intents, options: c.options }
    const plan = planAccept(item, facts, () => `dpl_${++ids}`)
    assert.equal(`${plan.call.outcome} ${plan.call.status} ${plan.call.reason}`, c.call)
    assert.deepEqual(
      plan.results.map((r) =>
        r.kind === 'ignored'
          ? `ignored ${r.service} ${r.reason}`
          : `${r.kind} ${r.deployment.service} ${JSON.stringify(r.deployment.params)} ` +
            `${r.deployment.calls}`,
      ),
      c.results,
    )
    if (c.inserts) {
      assert.deepEqual(plan.inserts.map(row), c.inserts)
    }
    assert.deepEqual(plan.joins.map(row), c.joins ?? [])
    if (c.deploymentIds) {
      assert.deepEqual(plan.deploymentIds, c.deploymentIds)
    }
    // The newest call's input is what a new or joined deployment runs with.
    for (const d of [...plan.inserts, ...plan.joins]) {
      assert.equal(d.input.body, c.intents.findLast((i) => i.service === d.service)?.input.body)
      assert.equal(d.state, 'queued')
    }
    assert.equal(plan.duplicateOf, c.facts?.firstOfDelivery)
  })
}
