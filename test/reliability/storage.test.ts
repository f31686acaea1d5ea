// Promise: bounded storage. However many calls come, what Deckhand keeps of them stays within
// DECKHAND_RETAIN and DECKHAND_RETAIN_CALLS; and the web UI is served with headers that keep
// other origins out of it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { commandService, startTestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

describe('promise: bounded storage', () => {
  it('a flood of refused calls is pruned down to DECKHAND_RETAIN_CALLS calls, the newest kept', async (t) => {
    const server = await startTestServer(t, {
      env: { DECKHAND_RETAIN_CALLS: '20' },
      pruneIntervalMs: 50,
    })
    server.logger.level = 'warn'
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService('web', 'true'))).status,
      201,
    )
    assert.equal(
      (await server.api('POST', '/api/v1/stacks', { name: 'shop', services: ['web'] })).status,
      201,
    )
    const trigger = await server.api('POST', '/api/v1/stacks/shop/triggers', {
      action: 'redeploy',
      rateLimit: '100000/min',
    })
    for (let i = 0; i < 120; i++) {
      // A service outside the stack is refused (400) but recorded: the audit trail keeps it.
      assert.equal((await server.hook(`${trigger.body.url}?services=nope${i}`)).status, 400)
    }
    const calls = async () =>
      (await server.api('GET', '/api/v1/calls?limit=1000')).body.items as { reason: string }[]
    await waitFor(async () => (await calls()).length <= 20, { timeoutMs: 20_000 })
    assert.match((await calls())[0]!.reason, /nope119/, 'the newest call is one of those kept')
  })

  it('calls and the logs of deployments that ended longer ago than DECKHAND_RETAIN are pruned; the deployments stay', async (t) => {
    const server = await startTestServer(t, { env: { DECKHAND_RETAIN: '1s' }, pruneIntervalMs: 50 })
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService('web', 'echo deployed'))).status,
      201,
    )
    const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
    })
    const answer = await server.hook(`${trigger.body.url}?wait=30s`)
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    const id = answer.body.deployments[0].id as string
    await waitFor(
      async () => (await server.api('GET', '/api/v1/calls?limit=10')).body.items.length === 0,
      { timeoutMs: 20_000 },
    )
    await waitFor(async () => (await server.store.readLog(id, 0, 10)).length === 0, {
      timeoutMs: 20_000,
    })
    const deployment = await server.api('GET', `/api/v1/deployments/${id}`)
    assert.equal(deployment.body.state, 'succeeded', 'the deployment history itself is kept')
  })

  it('the web UI is served with a self-only Content-Security-Policy, DENY framing, nosniff and no referrer', async (t) => {
    const server = await startTestServer(t)
    for (const path of ['/', '/services/web', '/assets/no-such-file.js']) {
      const response = await fetch(`${server.url}${path}`)
      await response.arrayBuffer()
      const csp = response.headers.get('content-security-policy') ?? ''
      assert.match(csp, /(^|; )default-src 'self'(;|$)/, `${path} has a self-only CSP`)
      assert.match(csp, /frame-ancestors 'none'/)
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, 'nothing loosens it')
      assert.equal(response.headers.get('x-frame-options'), 'DENY')
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer')
    }
  })
})
