// Promise: limits charge the right party. A stranger's bad calls count against the stranger's
// address, never against the trigger's rate limit that the real sender relies on.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'

import { readSettings } from '../../src/server/settings.ts'
import { FIXTURE_SECRET, readFixture } from '../fixtures/senders/load.ts'
import {
  ADMIN_TOKEN,
  commandService,
  startTestServer,
  type TestServer,
} from '../support/start-server.ts'

interface Answer {
  status: number
  retryAfter: string | undefined
  body: any
}

/** One request from the loopback address `from`, so each test is its own caller. */
function send(
  url: string,
  from: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Answer> {
  const body = init.body ?? ''
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: init.method ?? 'POST',
        localAddress: from,
        headers: { ...init.headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            body: text ? JSON.parse(text) : undefined,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function callsOf(server: TestServer, triggerId: string): Promise<number> {
  return (await server.api('GET', `/api/v1/calls?trigger=${triggerId}&limit=1000`)).body.items
    .length
}

describe('promise: limits charge the right party', () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer(undefined)
    assert.equal(
      (await server.api('POST', '/api/v1/services', commandService('web', 'true'))).status,
      201,
    )
  })
  after(() => server.close())

  it('twelve bad signatures on a 10/min trigger leave the real GitHub delivery its allowance', async () => {
    const trigger = await server.api('POST', '/api/v1/services/web/triggers', {
      name: 'gh',
      action: 'redeploy',
      sender: 'github',
      secret: FIXTURE_SECRET,
      rateLimit: '10/min',
    })
    assert.equal(trigger.status, 201)
    const push = readFixture('github-push-branch')
    const forged = { ...push.headers, 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` }
    for (let i = 0; i < 12; i++) {
      const answer = await send(trigger.body.url, '127.0.0.3', { headers: forged, body: push.body })
      assert.equal(
        answer.status,
        401,
        `forged call ${i + 1} is refused for its signature, not for the trigger's rate`,
      )
    }
    const real = await send(trigger.body.url, '127.0.0.4', {
      headers: push.headers,
      body: push.body,
    })
    assert.ok(
      real.status === 200 || real.status === 202,
      `the real delivery is served; got ${real.status} ${JSON.stringify(real.body)}`,
    )
  })

  it('calls from outside allowIps, bad signatures and unknown tokens draw on one allowance per address, and past it nothing is written', async () => {
    const fenced = await server.api('POST', '/api/v1/services/web/triggers', {
      name: 'fenced',
      action: 'redeploy',
      allowIps: ['203.0.113.0/24'],
    })
    const signed = await server.api('POST', '/api/v1/services/web/triggers', {
      name: 'signed',
      action: 'redeploy',
      sender: 'generic',
      secret: 'generic-secret',
    })
    const from = '127.0.0.5'
    for (let i = 0; i < 10; i++) {
      assert.equal(
        (
          await send(`${server.url}/hooks/${randomBytes(32).toString('base64url')}`, from, {
            body: '{}',
          })
        ).status,
        404,
      )
      assert.equal((await send(fenced.body.url, from, { body: '{}' })).status, 403)
      assert.equal((await send(signed.body.url, from, { body: '{}' })).status, 401)
    }
    // Thirty failures are the allowance; the next of any kind is refused before it is recorded.
    for (const url of [fenced.body.url, signed.body.url, fenced.body.url, signed.body.url]) {
      const answer = await send(url, from, { body: '{}' })
      assert.equal(answer.status, 429)
      assert.ok(Number(answer.retryAfter) >= 1, 'a refused address is told when to retry')
    }
    assert.equal(
      await callsOf(server, fenced.body.id),
      10,
      'refused addresses past the allowance wrote nothing',
    )
    assert.equal(
      await callsOf(server, signed.body.id),
      10,
      'bad signatures past the allowance wrote nothing',
    )
  })

  it('an address sending bad admin tokens is refused with 429 for a while, even with the good token, while other addresses are served', async () => {
    const services = `${server.url}/api/v1/services`
    const from = '127.0.0.7'
    for (let i = 0; i < 30; i++) {
      const answer = await send(services, from, {
        method: 'GET',
        headers: { authorization: `Bearer wrong-${i}-${'x'.repeat(40)}` },
      })
      assert.equal(answer.status, 401)
    }
    const locked = await send(services, from, {
      method: 'GET',
      headers: { authorization: `Bearer wrong-${'x'.repeat(40)}` },
    })
    assert.equal(locked.status, 429)
    assert.equal(locked.body.code, 'DH_ERR_AUTH_RATE_LIMITED')
    assert.ok(Number(locked.retryAfter) >= 1)
    const good = { method: 'GET', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }
    assert.equal(
      (await send(services, from, good)).status,
      429,
      'guessing stops paying off: the locked address is refused outright',
    )
    assert.equal(
      (await send(services, '127.0.0.8', good)).status,
      200,
      'other addresses keep their access',
    )
  })

  it('an admin token shorter than 32 characters is refused at start with a message', async () => {
    assert.throws(
      () => readSettings({ DECKHAND_ADMIN_TOKEN: 'hunter2-is-too-short' }),
      /DECKHAND_ADMIN_TOKEN must be at least 32 characters; it has 20/,
    )
    assert.doesNotThrow(() => readSettings({ DECKHAND_ADMIN_TOKEN: 'a'.repeat(32) }))
    const main = join(import.meta.dirname, '..', '..', 'src', 'main.ts')
    const run = promisify(execFile)(process.execPath, [main, 'serve'], {
      env: {
        PATH: process.env.PATH,
        DECKHAND_ADMIN_TOKEN: 'hunter2-is-too-short',
        DECKHAND_LISTEN: '127.0.0.1:0',
        DECKHAND_DATA_DIR: join(server.dataDir, 'never'),
      },
    })
    const failed = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    )
    assert.equal(failed?.code, 2, 'deckhand serve exits 2 (bad usage) instead of serving')
    assert.match(failed.stderr, /DECKHAND_ADMIN_TOKEN must be at least 32 characters/)
  })
})
