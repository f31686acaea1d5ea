/** Issue 16: a redeploy whose new command never becomes healthy leaves the old one serving. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { freePort } from '../support/spawn-server.ts'
import { startTestServer } from '../support/start-server.ts'
import { waitFor } from '../support/wait-for.ts'

describe('promise: a failed redeploy restores what ran before, exactly', () => {
  test('a process service on a base port keeps serving after its command is changed to a broken build', async (t) => {
    const port = await freePort()
    const root = mkdtempSync(join(tmpdir(), 'deckhand-served-'))
    t.after(() => rmSync(root, { recursive: true, force: true }))
    const server = await startTestServer(t)
    const created = await server.api('POST', '/api/v1/services', {
      name: 'site',
      driver: 'process',
      // http.server binds the port it is given; PORT is basePort for replica 0.
      target: {
        command: 'exec python3 -m http.server "$PORT" --bind 127.0.0.1',
        cwd: root,
        basePort: port,
        health: { http: '/' },
      },
      deploy: { healthTimeout: '15s' },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const serves = async () =>
      (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.status === 200
    await waitFor(serves, { timeoutMs: 15_000, what: 'http.server to answer' })

    const patched = await server.api('PATCH', '/api/v1/services/site', {
      target: { command: 'echo broken build; exit 1' },
    })
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
    const queued = await server.api('POST', '/api/v1/services/site/deployments', {
      action: 'redeploy',
    })
    const id: string = queued.body.deployments[0].id
    const failed = await waitFor(
      async () => {
        const { body } = await server.api('GET', `/api/v1/deployments/${id}`)
        return body.state === 'running' || body.state === 'queued' ? undefined : body
      },
      { timeoutMs: 30_000, what: 'the broken redeploy to end' },
    )
    assert.equal(failed.state, 'failed')
    assert.equal(await serves(), true, 'the old http.server serves on its port again')
    // The row shows the command that runs again; the deployment keeps the one that failed.
    const row = (await server.api('GET', '/api/v1/services/site')).body
    assert.equal(row.target.command, created.body.target.command)
    assert.equal(failed.tried.target.command, 'echo broken build; exit 1')

    // One sentence, then the output on lines of its own, then what became of the old replica.
    const lines: string[] = failed.error.split('\n')
    assert.match(
      lines[0] ?? '',
      /^replica 0 exited with code 1 before it became healthy; its last output:$/,
    )
    assert.equal(lines[1], 'broken build')
    assert.equal(lines.at(-1), 'Replicas 0 were restored as they ran before.')
    const log = await fetch(`${server.url}/api/v1/deployments/${id}/log`, {
      headers: { authorization: `Bearer ${server.token}` },
    })
    const text = await log.text()
    assert.equal(
      text.split('broken build').length - 1,
      1,
      `the output appears once in the log:\n${text}`,
    )
  })
})
