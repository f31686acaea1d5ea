/** Change windows, freezes and the admin's start through the real server, with a moved clock. */
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'
import { cliFor } from './cli-support.ts'

const BERLIN_OFFICE = [{ days: 'mon-fri', hours: '09:00-17:00', timezone: 'Europe/Berlin' }]

/** A server whose clock the test moves; the release timer looks every 50 ms. */
async function serverAt(t: Parameters<typeof startTestServer>[0], iso: string) {
  let now = Date.parse(iso)
  const server = await startTestServer(t, { clock: () => now, releaseCheckMs: 50 })
  return { server, moveTo: (to: string) => (now = Date.parse(to)) }
}

async function trigger(server: TestServer, service: string): Promise<string> {
  const created = await server.api('POST', `/api/v1/services/${service}/triggers`, {
    action: 'redeploy',
    sender: 'generic',
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  return created.body.url
}

async function stateOf(server: TestServer, id: string, state: string) {
  return waitFor(
    async () => {
      const d = (await server.api('GET', `/api/v1/deployments/${id}`)).body
      return d.state === state ? d : undefined
    },
    { what: `deployment ${id} ${state}`, timeoutMs: 20_000 },
  )
}

test('a call on Saturday is held until Monday 09:00 Berlin, and the timer starts it then', async (t) => {
  const { server, moveTo } = await serverAt(t, '2026-12-05T11:00:00Z')
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'echo deployed', {
      deploy: { windows: BERLIN_OFFICE },
    }),
  )
  const url = await trigger(server, 'web')
  const answer = await server.hook(url, {
    body: '{}',
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(answer.status, 202)
  assert.equal(answer.body.status, 'held')
  assert.equal(answer.body.startsAt, '2026-12-07T08:00:00.000Z')
  assert.match(answer.body.message, /outside the change windows/)
  const id = answer.body.deployments[0].id
  const held = (await server.api('GET', `/api/v1/deployments/${id}`)).body
  assert.equal(held.state, 'held')
  assert.equal(held.hold.until, '2026-12-07T08:00:00.000Z')
  // Friday 16:59 would have been open, Monday 08:59 is not yet.
  moveTo('2026-12-07T07:59:00Z')
  const again = await server.hook(url, {
    body: '{}',
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(again.body.deployments[0].id, id)
  assert.equal((await server.api('GET', `/api/v1/deployments/${id}`)).body.state, 'held')
  moveTo('2026-12-07T08:00:00Z')
  const done = await stateOf(server, id, 'succeeded')
  assert.equal(done.hold, null)
  assert.equal(done.calls, 2)
})

test('a deployment asked for through the API is judged by the same clock as calls', async (t) => {
  const { server, moveTo } = await serverAt(t, '2026-12-05T11:00:00Z')
  await server.api(
    'POST',
    '/api/v1/services',
    commandService('web', 'echo deployed', { deploy: { windows: BERLIN_OFFICE } }),
  )
  const asked = await server.api('POST', '/api/v1/services/web/deployments', {
    action: 'redeploy',
  })
  assert.equal(asked.status, 202, JSON.stringify(asked.body))
  assert.equal(asked.body.status, 'held')
  assert.equal(asked.body.startsAt, '2026-12-07T08:00:00.000Z')
  moveTo('2026-12-07T08:00:00Z')
  await stateOf(server, asked.body.deployments[0].id, 'succeeded')
})

test('a freeze holds calls with its message, they are still recorded, and unfreeze releases them', async (t) => {
  const { server } = await serverAt(t, '2026-12-04T10:00:00Z')
  await server.api('POST', '/api/v1/services', commandService('web'))
  const url = await trigger(server, 'web')
  const bad = await server.api('POST', '/api/v1/services/web/freeze', { until: 'yesterday' })
  assert.equal(bad.status, 400)
  assert.match(bad.body.error, /until/)
  // Named by its path, as a service's problems are: the UI puts it under the Until field.
  assert.deepEqual(bad.body.problems, [
    {
      path: ['until'],
      message: 'must be a duration such as 2h, an ISO time in the future with its zone, or null',
    },
  ])
  const frozen = await server.api('POST', '/api/v1/services/web/freeze', {
    until: '2h',
    message: 'incident 42',
  })
  assert.equal(frozen.status, 200, JSON.stringify(frozen.body))
  assert.deepEqual(
    { ...frozen.body.freeze, at: undefined },
    {
      until: '2026-12-04T12:00:00.000Z',
      message: 'incident 42',
      by: 'DECKHAND_ADMIN_TOKEN',
      at: undefined,
    },
  )
  const answer = await server.hook(url, {
    body: '{}',
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(answer.status, 202)
  assert.equal(answer.body.status, 'held')
  assert.equal(answer.body.message, 'frozen: incident 42')
  assert.equal(answer.body.startsAt, '2026-12-04T12:00:00.000Z')
  const id = answer.body.deployments[0].id
  const calls = (await server.api('GET', '/api/v1/calls')).body.items
  assert.deepEqual(calls[0].deploymentIds, [id])
  const thawed = await server.api('DELETE', '/api/v1/services/web/freeze')
  assert.equal(thawed.status, 200)
  assert.equal(thawed.body.freeze, undefined)
  await stateOf(server, id, 'succeeded')
  assert.ok(server.logs.some((l) => l.includes('unfroze web')))
})

test('an admin starts a held deployment with a note; a second start is 409; a held one can be canceled', async (t) => {
  const { server } = await serverAt(t, '2026-12-04T10:00:00Z')
  await server.api('POST', '/api/v1/services', commandService('web'))
  await server.api('POST', '/api/v1/services', commandService('api'))
  await server.api('POST', '/api/v1/services/web/freeze', { message: 'audit' })
  await server.api('POST', '/api/v1/services/api/freeze', { message: 'audit' })
  const web = await server.hook(await trigger(server, 'web'), { body: '{}' })
  const api = await server.hook(await trigger(server, 'api'), { body: '{}' })
  assert.equal(web.body.startsAt, null)
  const id = web.body.deployments[0].id
  const started = await server.api('POST', `/api/v1/deployments/${id}/start`, {
    note: 'hotfix for incident 42',
  })
  assert.equal(started.status, 200, JSON.stringify(started.body))
  await stateOf(server, id, 'succeeded')
  const twice = await server.api('POST', `/api/v1/deployments/${id}/start`, {})
  assert.equal(twice.status, 409)
  assert.ok(
    server.logs.some((l) => l.includes('hotfix for incident 42') && l.includes('started held')),
  )
  const log = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  assert.ok(
    log.some(
      (l: { line: string }) =>
        l.line ===
        `DECKHAND_ADMIN_TOKEN started held deployment ${id} of web: hotfix for incident 42`,
    ),
    JSON.stringify(log),
  )
  const canceled = await server.api(
    'POST',
    `/api/v1/deployments/${api.body.deployments[0].id}/cancel`,
  )
  assert.equal(canceled.body.state, 'canceled')
})

test('deploy.freezeOnRollback: a failed redeploy freezes the service, and the next call is held with the reason', async (t) => {
  const server = await startTestServer(t)
  const created = await server.api('POST', '/api/v1/services', {
    ...commandService('web', 'exit 3'),
    deploy: { freezeOnRollback: true },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const url = await trigger(server, 'web')

  const failed = await server.hook(`${url}?wait=30s`)

  assert.equal(failed.body.deployments[0].state, 'failed', JSON.stringify(failed.body))
  const id = failed.body.deployments[0].id
  const service = (await server.api('GET', '/api/v1/services/web')).body
  assert.equal(service.freeze.by, 'deckhand')
  assert.equal(service.freeze.until, null)
  assert.match(service.freeze.message, new RegExp(`^deployment ${id} failed; what ran before`))
  const log = (await server.api('GET', `/api/v1/deployments/${id}/log`)).body.items
  assert.ok(
    log.some((l: { line: string }) => l.line.includes('is frozen (deploy.freezeOnRollback)')),
    JSON.stringify(log),
  )
  const held = await server.hook(url)
  assert.equal(held.status, 202)
  assert.equal(held.body.status, 'held')
  assert.match(held.body.message ?? JSON.stringify(held.body), /frozen: deployment/)
  assert.equal((await server.api('DELETE', '/api/v1/services/web/freeze')).status, 200)
})

test('deckhand service freeze and unfreeze hold and release calls; deploy start overrides a freeze', async (t) => {
  const server = await startTestServer(t)
  await server.api('POST', '/api/v1/services', commandService('web', 'true'))
  const url = await trigger(server, 'web')
  const cli = cliFor(server)

  const frozen = await cli('service', 'freeze', 'web', '--until', '2h', '--message', 'release week')
  assert.equal(frozen.code, 0, frozen.stderr)
  assert.match(frozen.stdout, /^froze web until \d{4}-\S+: release week\n$/)
  const held = await server.hook(url)
  assert.equal(held.body.status, 'held', JSON.stringify(held.body))
  const id = held.body.deployments[0].id as string
  const shown = await cli('deploy', 'show', id)
  assert.match(shown.stdout, /^held: +until \d{4}-\S+: frozen: release week$/m)
  assert.doesNotMatch(shown.stdout, /^hold:/m)
  const started = await cli('deploy', 'start', id, '--note', 'hotfix')
  assert.equal(started.code, 0, started.stderr)
  assert.equal(started.stdout, `deployment ${id} is queued\n`)
  await stateOf(server, id, 'succeeded')
  const again = await cli('deploy', 'start', id)
  assert.equal(again.code, 1)

  const second = await server.hook(url)
  assert.equal(second.body.status, 'held')
  const unfrozen = await cli('service', 'unfreeze', 'web')
  assert.equal(unfrozen.code, 0, unfrozen.stderr)
  assert.equal(unfrozen.stdout, 'unfroze web\n')
  await stateOf(server, second.body.deployments[0].id, 'succeeded')
  const json = JSON.parse((await cli('service', 'freeze', 'web', '-o', 'json')).stdout)
  assert.equal(json.freeze.until, null)
  assert.equal(json.freeze.message, 'frozen from the CLI')
})
