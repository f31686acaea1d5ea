/** Alertmanager autoscaling through the real endpoint: one step per call, reverse on resolve, cooldown. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { FIXTURE_SECRET, readFixture } from '../fixtures/senders/load.ts'
import { commandService, startTestServer, type TestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

const TWO_FIRING = 'firing: HighRequestLatency (web-1:8080), HighRequestLatency (web-2:8080)'

describe('Alertmanager scale triggers', () => {
  let server: TestServer
  let serial = 0
  before(async () => {
    server = await startTestServer(undefined)
  })
  after(() => server.close())

  /** A command service at 1 replica (bounds 1..5) with a scale trigger fed by Alertmanager. */
  const scaled = async (trigger: Record<string, unknown>) => {
    const name = `scaled-${++serial}`
    const service = commandService(name, 'echo ok', { scale: { min: 1, max: 5 } })
    assert.equal((await server.api('POST', '/api/v1/services', service)).status, 201)
    const created = await server.api('POST', `/api/v1/services/${name}/triggers`, {
      sender: 'alertmanager',
      secret: FIXTURE_SECRET,
      ...trigger,
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    return { name, url: created.body.url as string, triggerId: created.body.id as string }
  }
  const alert = (name: string) => {
    const { body, headers } = readFixture(name)
    return { body, headers: { ...headers, Authorization: `Bearer ${FIXTURE_SECRET}` } }
  }
  const finished = async (answer: { status: number; body: any }) => {
    assert.equal(answer.status, 202, JSON.stringify(answer.body))
    return waitFor(
      async () => {
        const d = await server.api('GET', `/api/v1/deployments/${answer.body.deployments[0].id}`)
        return d.body.state === 'succeeded' ? d.body : undefined
      },
      { what: 'the scale deployment to succeed' },
    )
  }
  const replicas = async (name: string) =>
    (await server.api('GET', `/api/v1/services/${name}`)).body.replicas

  it('firing scales up by the trigger step, and the call log names the alerts that drove it', async () => {
    const { name, url, triggerId } = await scaled({ action: 'scale-up', by: 2, cooldown: 0 })
    const done = await finished(await server.hook(url, alert('alertmanager-firing')))
    assert.equal(done.action, 'scale')
    assert.equal(done.params.by, 2)
    assert.equal(await replicas(name), 3)
    const calls = await server.api('GET', `/api/v1/calls?trigger=${triggerId}`)
    assert.deepEqual(
      calls.body.items.map((c: { outcome: string; reason: string }) => [c.outcome, c.reason]),
      [['queued', TWO_FIRING]],
    )
  })

  it('one call is one step, whatever the number of alerts in the group; resolved ones are not named', async () => {
    const { name, url, triggerId } = await scaled({ action: 'scale-up', cooldown: 0 })
    const done = await finished(await server.hook(url, alert('alertmanager-firing-group')))
    assert.equal(done.params.by, 1)
    assert.equal(await replicas(name), 2)
    const calls = await server.api('GET', `/api/v1/calls?trigger=${triggerId}`)
    assert.equal(calls.body.items[0].reason, TWO_FIRING)
  })

  it('resolved scales back down when the trigger reverses on resolve', async () => {
    const { name, url, triggerId } = await scaled({
      action: 'scale-up',
      reverseOnResolve: true,
      cooldown: 0,
    })
    await finished(await server.hook(url, alert('alertmanager-firing')))
    assert.equal(await replicas(name), 2)
    const down = await finished(await server.hook(url, alert('alertmanager-resolved')))
    assert.equal(down.params.by, -1)
    assert.equal(await replicas(name), 1)
    const calls = await server.api('GET', `/api/v1/calls?trigger=${triggerId}`)
    assert.equal(
      calls.body.items[0].reason,
      'resolved: HighRequestLatency (web-1:8080), HighRequestLatency (web-2:8080)',
    )
  })

  it('resolved is ignored when the trigger does not reverse on resolve', async () => {
    const { name, url } = await scaled({ action: 'scale-up', cooldown: 0 })
    const answer = await server.hook(url, alert('alertmanager-resolved'))
    assert.deepEqual(answer.body, {
      status: 'ignored',
      reason: 'alert resolved; the trigger does not reverse on resolve',
    })
    assert.deepEqual(
      (await server.api('GET', `/api/v1/deployments?service=${name}`)).body.items,
      [],
    )
  })

  it('a scale-down trigger steps down on firing', async () => {
    const { name, url } = await scaled({ action: 'scale-down', cooldown: 0 })
    await server.api('PATCH', `/api/v1/services/${name}`, { replicas: 3 })
    const done = await finished(await server.hook(url, alert('alertmanager-firing')))
    assert.equal(done.params.by, -1)
    assert.equal(await replicas(name), 2)
  })

  it('a cooldown after a step ignores further steps, firing or resolved', async () => {
    const { name, url, triggerId } = await scaled({
      action: 'scale-up',
      reverseOnResolve: true,
      cooldown: '60s',
    })
    await finished(await server.hook(url, alert('alertmanager-firing')))
    const cooldown = {
      status: 'ignored',
      reason: 'cooldown: the last scale step was less than 60s ago',
    }
    assert.deepEqual((await server.hook(url, alert('alertmanager-firing'))).body, cooldown)
    assert.deepEqual((await server.hook(url, alert('alertmanager-resolved'))).body, cooldown)
    assert.equal(
      (await server.api('GET', `/api/v1/deployments?service=${name}`)).body.items.length,
      1,
    )
    assert.equal(await replicas(name), 2)
    const calls = await server.api('GET', `/api/v1/calls?trigger=${triggerId}`)
    assert.deepEqual(
      calls.body.items.map((c: { outcome: string }) => c.outcome),
      ['ignored', 'ignored', 'queued'],
    )
  })
})
