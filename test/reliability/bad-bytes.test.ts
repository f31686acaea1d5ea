// Promise: bad bytes make a clear 400 at the call, never a failed deployment later.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { resolveCall } from '../../src/calls/resolve-call.ts'
import { parseConfigText } from '../../src/config/config-file.ts'
import type { Service, Trigger } from '../../src/model/index.ts'
import { editFixture } from '../fixtures/senders/load.ts'
import { commandService, startTestServer } from '../support/start-server.ts'

/** A GitHub push fixture with `change` applied, as headers and body for an HTTP call. */
function githubPush(change: (body: Record<string, any>) => void): {
  body: Buffer
  headers: Record<string, string>
} {
  const request = editFixture('github-push-branch', change)
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(request.headers ?? {})) {
    if (typeof value === 'string' && !key.startsWith('x-hub-signature')) {
      headers[key] = value
    }
  }
  return { body: request.body as Buffer, headers }
}

describe('promise: bad bytes make a clear 400, never a failed deployment', () => {
  it('refuses a NUL or control character in a branch, tag or commit, naming the field, and queues nothing', async (t) => {
    const server = await startTestServer(t)
    await server.api('POST', '/api/v1/services', commandService('web'))
    const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
    })
    const cases: [string, (body: Record<string, any>) => void][] = [
      ['branch', (body) => (body.ref = 'refs/heads/ma\u0000in')],
      ['branch', (body) => (body.ref = 'refs/heads/main\nX-Injected: 1')],
      ['tag', (body) => (body.ref = 'refs/tags/v1\u001b[31m')],
      ['commit', (body) => (body.after = `${'a'.repeat(40)}\u0000`)],
      ['commit', (body) => (body.after = 'not-hex; rm -rf /')],
    ]
    for (const [field, change] of cases) {
      const answer = await server.hook(trigger.body.url, githubPush(change))
      assert.equal(answer.status, 400, `${field}: ${JSON.stringify(answer.body)}`)
      assert.match(answer.body.error, new RegExp(`payload's ${field}`))
    }
    const deployments = await server.api('GET', '/api/v1/deployments')
    assert.equal(deployments.body.items.length, 0)
  })

  it('refuses a passed body that grows past the limit once decoded to UTF-8, where it used to fail the deployment with spawn E2BIG', async (t) => {
    const server = await startTestServer(t)
    await server.api('POST', '/api/v1/services', commandService('web', 'echo "${#DECKHAND_BODY}"'))
    const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
      action: 'redeploy',
      passBody: true,
    })
    // 60,000 bytes, under the 64 KiB passed to instances; each becomes a 3-byte U+FFFD when decoded.
    const answer = await server.hook(trigger.body.url, {
      body: Buffer.alloc(60_000, 0xff),
      headers: { 'content-type': 'application/octet-stream' },
    })
    assert.equal(answer.status, 400, JSON.stringify(answer.body))
    assert.match(answer.body.error, /not valid UTF-8 and grows to 180000 bytes once decoded/)
    assert.equal((await server.api('GET', '/api/v1/deployments')).body.items.length, 0)
  })

  it('a body over 64 KiB is accepted but not passed: the script sees no DECKHAND_TRIGGER_BODY and the log says why', async (t) => {
    const server = await startTestServer(t)
    await server.api(
      'POST',
      '/api/v1/services',
      commandService('big', 'echo "body has ${#DECKHAND_TRIGGER_BODY} characters"'),
    )
    const trigger = await server.api('POST', '/api/v1/services/big/triggers', {
      action: 'redeploy',
      passBody: true,
    })
    const answer = await server.hook(`${trigger.body.url}?wait=30s`, {
      body: 'x'.repeat(100_000),
      headers: { 'content-type': 'text/plain' },
    })
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    const log = await server.api('GET', `/api/v1/deployments/${answer.body.deployments[0].id}/log`)
    const lines = (log.body.items as { line: string }[]).map((item) => item.line)
    assert.ok(
      lines.includes(
        'the call body was larger than 64 KiB, so DECKHAND_TRIGGER_BODY was not passed',
      ),
      lines.join('\n'),
    )
    assert.ok(lines.includes('body has 0 characters'), lines.join('\n'))
  })

  it('refuses envFromQuery names outside ^[A-Z][A-Z0-9_]{0,63}$ or on the deny-list, through the API and the config file', async (t) => {
    const server = await startTestServer(t)
    await server.api('POST', '/api/v1/services', commandService('web'))
    const refused = [
      'toString',
      '__proto__',
      'constructor',
      'lower',
      'LD_PRELOAD',
      'DYLD_INSERT_LIBRARIES',
      'NODE_OPTIONS',
      'PERL5OPT',
      'PYTHONSTARTUP',
      'PYTHONPATH',
      'JAVA_TOOL_OPTIONS',
      'GIT_SSH_COMMAND',
      'GIT_DIR',
      'HTTPS_PROXY',
      'https_proxy',
      'ALL_PROXY',
      'DOCKER_HOST',
      'KUBECONFIG',
      'PATH',
      'HOME',
      'SHELL',
      'IFS',
      'DECKHAND_ADMIN_TOKEN',
      `A${'B'.repeat(64)}`,
    ]
    for (const name of refused) {
      const answer = await server.api('POST', '/api/v1/services/web/triggers', {
        action: 'redeploy',
        envFromQuery: [name],
      })
      assert.equal(answer.status, 400, name)
      assert.ok(JSON.stringify(answer.body).includes('envFromQuery'), name)
      assert.ok(JSON.stringify(answer.body).includes(JSON.stringify(name).slice(1, -1)), name)

      const file = `services:\n  - name: web\n    driver: command\n    target:\n      redeploy: echo web\ntriggers:\n  - service: web\n    action: redeploy\n    envFromQuery: [${JSON.stringify(name)}]\n`
      const loaded = parseConfigText(file, 'deckhand.yaml', {}, { ignoreMissingEnv: true })
      assert.ok(
        !loaded.ok && loaded.errors.some((error) => error.includes('envFromQuery')),
        `config file: ${name}`,
      )
    }
    for (const [index, name] of ['SERVICE_TAG', 'RELEASE', 'A', `A${'B'.repeat(63)}`].entries()) {
      const answer = await server.api('POST', '/api/v1/services/web/triggers', {
        action: 'redeploy',
        name: `allowed-${index}`,
        envFromQuery: [name],
      })
      assert.equal(answer.status, 201, `${name}: ${JSON.stringify(answer.body)}`)
    }
  })

  it('reads query variables as own properties only, so a name on Object.prototype answers no 500', () => {
    // A trigger stored before names were checked may still name `toString`; the query is a plain object.
    const trigger = {
      id: 'trg_x',
      name: 'old',
      action: 'redeploy',
      allowTag: false,
      passBody: false,
      envFromQuery: ['toString', 'constructor'],
    } as unknown as Trigger
    const resolution = resolveCall({
      trigger,
      event: { kind: 'plain' },
      query: { SERVICE_TAG: 'x' },
      services: [commandService('web') as unknown as Service],
      body: Buffer.alloc(0),
      canChangeTag: () => true,
    })
    assert.equal(resolution.kind, 'intents')
    assert.deepEqual(
      resolution.kind === 'intents' ? resolution.intents[0]!.input.env : undefined,
      {},
    )
  })
})
