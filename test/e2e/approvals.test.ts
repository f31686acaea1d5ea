/** Approvals (service deploy.approvals) through the real server: votes, deadline, resets. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import type { Deployment } from '../../src/model/index.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'
import { cliFor, deckhand } from './cli-support.ts'

const approvals = (required: number, deadline = '24h') => ({
  deploy: { approvals: { required, deadline } },
})

/** An admin token named `name`, and a caller of the admin API that sends it. */
async function admin(server: TestServer, name: string) {
  const created = await server.api('POST', '/api/v1/tokens', { name })
  assert.equal(created.status, 201)
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${created.body.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: response.status, body: await response.json() }
  }
}

async function serviceWithTrigger(server: TestServer, required: number, deadline?: string) {
  const created = await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'echo deployed', approvals(required, deadline)),
  )
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
    action: 'redeploy',
    name: 'ci',
  })
  return trigger.body.url as string
}

const ended = (server: TestServer, id: string) =>
  waitFor(
    async () => {
      const d = (await server.api('GET', `/api/v1/deployments/${id}`)).body
      return ['succeeded', 'failed', 'canceled'].includes(d.state) ? d : undefined
    },
    { timeoutMs: 20_000, what: `deployment ${id} to end` },
  )

test('a call to a service needing two approvals awaits them; two named admins queue it and it runs', async (t) => {
  const server = await startTestServer(t)
  const url = await serviceWithTrigger(server, 2)
  const call = await server.hook(`${url}?tag=7`)
  assert.equal(call.status, 202)
  assert.equal(call.body.status, 'awaiting-approval')
  const id = call.body.deployments[0].id as string
  const alice = await admin(server, 'alice')
  const bob = await admin(server, 'bob')
  const first = await alice('POST', `/api/v1/deployments/${id}/approve`, { note: 'looks good' })
  assert.equal(first.status, 200, JSON.stringify(first.body))
  assert.equal(first.body.state, 'awaiting-approval')
  assert.equal(first.body.approvals.required, 2)
  const twice = await alice('POST', `/api/v1/deployments/${id}/approve`, {})
  assert.equal(twice.status, 409)
  assert.match(twice.body.error, /token alice already voted \(approve\)/)
  const view = (await server.api('GET', `/api/v1/deployments/${id}`)).body
  assert.equal(view.state, 'awaiting-approval', 'still awaiting after one approval')
  assert.deepEqual(
    view.approvals.votes.map((v: { by: string; note: string }) => [v.by, v.note]),
    [['alice', 'looks good']],
  )
  const createdAt = Date.parse(view.createdAt)
  assert.equal(Date.parse(view.approvals.deadline) - createdAt, 24 * 3_600_000)
  const second = await bob('POST', `/api/v1/deployments/${id}/approve`)
  assert.equal(second.status, 200, JSON.stringify(second.body))
  assert.ok(['queued', 'running', 'succeeded'].includes(second.body.state), second.body.state)
  const done = await ended(server, id)
  assert.equal(done.state, 'succeeded')
  assert.deepEqual(
    done.approvals.votes.map((v: { by: string; vote: string }) => [v.by, v.vote]),
    [
      ['alice', 'approve'],
      ['bob', 'approve'],
    ],
  )
  const late = await server.api('POST', `/api/v1/deployments/${id}/approve`)
  assert.equal(late.status, 409)
  assert.match(late.body.error, /is succeeded, not awaiting approval/)
  const log = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  assert.ok(
    log.some((l: { line: string }) => l.line === 'redeploying web to tag 7 on command'),
    JSON.stringify(log),
  )
})

test('one rejection cancels an awaiting deployment with its note, and nothing runs', async (t) => {
  const server = await startTestServer(t)
  const url = await serviceWithTrigger(server, 2)
  const id = (await server.hook(url)).body.deployments[0].id as string
  const carol = await admin(server, 'carol')
  await carol('POST', `/api/v1/deployments/${id}/approve`)
  const dave = await admin(server, 'dave')
  const rejected = await dave('POST', `/api/v1/deployments/${id}/reject`, {
    note: 'not during the sale',
  })
  assert.equal(rejected.status, 200, JSON.stringify(rejected.body))
  assert.equal(rejected.body.state, 'canceled')
  assert.equal(rejected.body.error, 'rejected by dave: not during the sale')
  assert.equal(rejected.body.startedAt, null)
  const log = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  assert.deepEqual(log, [])
})

test('an awaiting deployment past its deadline is canceled with the reason', async (t) => {
  const server = await startTestServer(t, { approvalSweepMs: 50 })
  const url = await serviceWithTrigger(server, 1, '1s')
  const finished = new Promise<Deployment>((resolve) => {
    const off = server.events.on('deployment:finished', ({ deployment }) => {
      off()
      resolve(deployment)
    })
  })
  const call = await server.hook(url)
  assert.equal(call.body.status, 'awaiting-approval')
  const canceled = await finished
  assert.equal(canceled.id, call.body.deployments[0].id)
  assert.equal(canceled.state, 'canceled')
  assert.equal(canceled.error, 'approval deadline passed (1s)')
  assert.ok(Date.parse(canceled.finishedAt!) - Date.parse(canceled.createdAt) >= 1000)
  const vote = await server.api('POST', `/api/v1/deployments/${canceled.id}/approve`)
  assert.equal(vote.status, 409)
})

test('a call that joins with a new tag drops the votes so far, and the log says so', async (t) => {
  const server = await startTestServer(t)
  const url = await serviceWithTrigger(server, 2)
  const id = (await server.hook(`${url}?tag=1`)).body.deployments[0].id as string
  const erin = await admin(server, 'erin')
  await erin('POST', `/api/v1/deployments/${id}/approve`)
  const same = await server.hook(`${url}?tag=1`)
  assert.equal(same.body.deployments[0].id, id)
  assert.equal(
    (await server.api('GET', `/api/v1/deployments/${id}`)).body.approvals.votes.length,
    1,
    'the same tag keeps the votes',
  )
  const joined = await server.hook(`${url}?tag=2`)
  assert.equal(joined.status, 202)
  assert.equal(joined.body.status, 'awaiting-approval')
  assert.equal(joined.body.deployments[0].id, id)
  const view = (await server.api('GET', `/api/v1/deployments/${id}`)).body
  assert.deepEqual(view.approvals.votes, [])
  assert.equal(view.params.tag, '2')
  assert.equal(view.calls, 3)
  const log = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  assert.deepEqual(
    log.map((l: { line: string }) => l.line),
    ['the tag changed from 1 to 2 while awaiting approval: 1 vote dropped, approvals start over'],
  )
  const again = await erin('POST', `/api/v1/deployments/${id}/approve`)
  assert.equal(again.status, 200, 'a dropped vote may be cast again')
})

test('an awaiting deployment can be canceled; votes are refused on a queued one and bad notes', async (t) => {
  const server = await startTestServer(t)
  const url = await serviceWithTrigger(server, 2)
  const id = (await server.hook(url)).body.deployments[0].id as string
  const long = await server.api('POST', `/api/v1/deployments/${id}/approve`, {
    note: 'x'.repeat(501),
  })
  assert.equal(long.status, 400)
  assert.match(long.body.error, /note/)
  const unknown = await server.api('POST', `/api/v1/deployments/${id}/approve`, { why: 'x' })
  assert.equal(unknown.status, 400)
  assert.match(unknown.body.error, /body\.why is not a known field/)
  const canceled = await server.api('POST', `/api/v1/deployments/${id}/cancel`)
  assert.equal(canceled.status, 200)
  assert.equal(canceled.body.state, 'canceled')
  await server.api('POST', '/api/v1/services', commandService('api', 'sleep 5'))
  const queued = await server.api('POST', '/api/v1/services/api/deployments', {})
  assert.equal(queued.body.status, 'queued')
  const queuedId = queued.body.deployments[0].id
  const vote = await server.api('POST', `/api/v1/deployments/${queuedId}/reject`)
  assert.equal(vote.status, 409)
  assert.match(vote.body.error, /not awaiting approval/)
  const missing = await server.api('POST', '/api/v1/deployments/dpl_missing/approve')
  assert.equal(missing.status, 404)
})

test('deploy.approvals is validated, naming the field', async (t) => {
  const server = await startTestServer(t)
  for (const [bad, field] of [
    [{ required: 0 }, 'deploy/approvals/required'],
    [{ required: 11 }, 'deploy/approvals/required'],
    [{ required: 2, deadline: 'soon' }, 'deploy.approvals.deadline'],
    [{ required: 2, deadline: '90d' }, 'deploy.approvals.deadline'],
  ] as const) {
    const answer = await server.api(
      'POST',
      '/api/v1/services',
      commandService('web', 'true', { deploy: { approvals: bad } }),
    )
    assert.equal(answer.status, 400, JSON.stringify(bad))
    assert.ok(answer.body.error.includes(field), answer.body.error)
  }
  const good = await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'true', approvals(3, '2h')),
  )
  assert.deepEqual(good.body.deploy.approvals, { required: 3, deadline: '2h' })
})

test('deckhand deploy approve and reject vote with a note; deploy show lists the votes', async (t) => {
  const server = await startTestServer(t)
  const url = await serviceWithTrigger(server, 2)
  const id = (await server.hook(url)).body.deployments[0].id as string
  const cli = cliFor(server)
  const approved = await cli('deploy', 'approve', id, '--note', 'ship it')
  assert.equal(approved.code, 0, approved.stderr)
  assert.equal(approved.stdout, `deployment ${id} has 1 of 2 approvals\n`)
  const twice = await cli('deploy', 'approve', id)
  assert.equal(twice.code, 1)
  assert.match(twice.stderr, /already voted \(approve\)/)
  const shown = await cli('deploy', 'show', id)
  assert.equal(shown.code, 0, shown.stderr)
  assert.match(shown.stdout, /^state: +awaiting-approval$/m)
  assert.match(shown.stdout, /^approvals: 1 of 2, deadline \d{4}-/m)
  assert.match(shown.stdout, /^ {2}approved by DECKHAND_ADMIN_TOKEN at \S+: ship it$/m)
  const json = JSON.parse((await cli('deploy', 'show', id, '--json')).stdout)
  assert.equal(json.approvals.votes[0].note, 'ship it')
  const rejected = await deckhand(['deploy', 'reject', id, '--note', 'wrong week'], {
    DECKHAND_URL: server.url,
    DECKHAND_TOKEN: (await server.api('POST', '/api/v1/tokens', { name: 'frank' })).body.token,
  })
  assert.equal(rejected.code, 0, rejected.stderr)
  assert.equal(rejected.stdout, `deployment ${id} is canceled: rejected by frank: wrong week\n`)
})
